"""The double holds every request body to Discord's OpenAPI spec, and to the Components V2 rules
the spec can't express (tests/double/contract.py, tests/double/limits.py). Driven over the
double's HTTP API with plain aiohttp requests, as a bot would send them."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.double import Channel, DiscordDouble, contract

ROOT = Path(__file__).resolve().parent.parent
SHARED_SPEC = ROOT.parent / "shared" / "discord-openapi.json"
V2 = 1 << 15  # MessageFlags.IS_COMPONENTS_V2


# ----------------------------------------------------------------------------- helpers
@pytest.fixture
async def http(dd: DiscordDouble) -> AsyncIterator[aiohttp.ClientSession]:
    headers = {"Authorization": f"Bot {dd.token}"}
    async with aiohttp.ClientSession(headers=headers) as session:
        yield session


@pytest.fixture
def channel(dd: DiscordDouble) -> Channel:
    return dd.add_channel(dd.add_guild("Office"), "support")


async def send(
    http: aiohttp.ClientSession,
    dd: DiscordDouble,
    path: str,
    body: Any,
    *,
    method: str = "POST",
    files: dict[str, bytes] | None = None,
) -> tuple[int, Any]:
    """One request as discord.py sends it: JSON, or multipart with payload_json and files[n]."""
    url = dd.api_base + path
    if files is None:
        async with http.request(method, url, json=body) as response:
            return response.status, await response.json() if response.status != 204 else None
    form = aiohttp.FormData()
    form.add_field("payload_json", json.dumps(body), content_type="application/json")
    for i, (name, raw) in enumerate(files.items()):
        form.add_field(f"files[{i}]", raw, filename=name, content_type="application/octet-stream")
    async with http.request(method, url, data=form) as response:
        return response.status, await response.json()


def text(content: str) -> dict[str, Any]:
    return {"type": 10, "content": content}


def button(custom_id: str = "b") -> dict[str, Any]:
    return {"type": 2, "style": 1, "label": "Go", "custom_id": custom_id}


def thumbnail(url: str) -> dict[str, Any]:
    return {"type": 11, "media": {"url": url}}


def section(*children: dict[str, Any], accessory: Any = None) -> dict[str, Any]:
    out: dict[str, Any] = {"type": 9, "components": list(children)}
    if accessory is not None:
        out["accessory"] = accessory
    return out


def v2(*components: dict[str, Any]) -> dict[str, Any]:
    return {"flags": V2, "components": list(components)}


def error_paths(body: dict[str, Any]) -> set[str]:
    """The dotted paths of an Invalid Form Body's `errors`, e.g. {"components.0.accessory"}."""
    found: set[str] = set()

    def walk(node: dict[str, Any], path: tuple[str, ...]) -> None:
        for key, sub in node.items():
            if key == "_errors":
                found.add(".".join(path))
            elif isinstance(sub, dict):
                walk(sub, (*path, key))

    walk(body.get("errors") or {}, ())
    return found


# ----------------------------------------------------------------------------- the spec itself
def test_the_vendored_spec_is_discords_openapi_31() -> None:
    spec = contract.spec()
    assert spec["openapi"].startswith("3.1") and spec["info"]["version"] == "10"
    assert "MessageCreateRequest" in spec["components"]["schemas"]


@pytest.mark.skipif(not SHARED_SPEC.exists(), reason="no ../shared/discord-openapi.json here")
def test_the_vendored_spec_is_identical_to_the_shared_one() -> None:
    with gzip.open(contract.SPEC_FILE, "rb") as f:
        vendored = f.read()
    assert vendored == SHARED_SPEC.read_bytes(), (
        "tests/double/discord-openapi.json.gz differs from ../shared/discord-openapi.json: "
        "gzip -9 -n -c ../shared/discord-openapi.json > tests/double/discord-openapi.json.gz"
    )


@pytest.mark.parametrize(
    ("method", "path", "operation"),
    [
        ("PUT", "/applications/1/commands", "bulk_set_application_commands"),
        ("PUT", "/applications/1/guilds/2/commands", "bulk_set_guild_application_commands"),
        ("POST", "/interactions/1/tok/callback", "create_interaction_response"),
        ("POST", "/webhooks/1/tok", "execute_webhook"),
        ("PATCH", "/webhooks/1/tok/messages/@original", "update_original_webhook_message"),
        ("PATCH", "/webhooks/1/tok/messages/3", "update_webhook_message"),
        ("POST", "/channels/1/messages", "create_message"),
        ("PATCH", "/channels/1/messages/2", "update_message"),
        ("POST", "/channels/1/messages/2/threads", "create_thread_from_message"),
        ("POST", "/channels/1/threads", "create_thread"),
        ("PATCH", "/channels/1", "update_channel"),
        ("POST", "/users/@me/channels", "create_dm"),
    ],
)
def test_every_route_the_bot_sends_a_body_to_has_its_operation(
    method: str, path: str, operation: str
) -> None:
    found = contract.find_operation(method, path)
    assert found is not None and found.operation_id == operation
    assert found.has_body


def test_validators_are_compiled_once_per_operation() -> None:
    first = contract.find_operation("POST", "/channels/1/messages")
    again = contract.find_operation("POST", "/channels/99/messages")
    assert first is again and first is not None
    assert first.validator is first.validator


def test_a_union_reports_the_branch_meant() -> None:
    """components.0 is a section (type 9) that lacks its accessory: the error names that, not
    'matches none of 7 component types'."""
    [violation] = contract.check_body("POST", "/channels/1/messages", v2(section(text("hi"))))
    assert violation.where == ("components", 0)
    assert violation.code == "required" and "'accessory'" in violation.message


# ----------------------------------------------------------------------------- violations
async def test_a_violation_is_answered_as_discord_does_and_recorded(
    dd: DiscordDouble, http: aiohttp.ClientSession, channel: Channel
) -> None:
    path = f"/channels/{channel.id}/messages"
    with dd.expect_contract_violations() as seen:
        status, body = await send(http, dd, path, {"embeds": [{"title": "t" * 257}]})
    assert status == 400 and body["code"] == 50035 and body["message"] == "Invalid Form Body"
    assert body["errors"]["embeds"]["0"]["title"]["_errors"][0]["code"] == "BASE_TYPE_MAX_LENGTH"
    [violation] = seen
    assert (violation.method, violation.path, violation.operation) == (
        "POST",
        path,
        "create_message",
    )
    assert violation.where == ("embeds", 0, "title") and "257" in violation.message
    assert dd.contract_violations == [violation] and not contract.UNEXPECTED
    assert dd.messages(channel) == []
    status, _ = await send(http, dd, path, {"embeds": [{"title": "t" * 256}]})
    assert status == 200


async def test_a_multipart_payload_json_is_checked_too(
    dd: DiscordDouble, http: aiohttp.ClientSession, channel: Channel
) -> None:
    path = f"/channels/{channel.id}/messages"
    with dd.expect_contract_violations() as seen:
        status, _ = await send(http, dd, path, {"tts": "yes"}, files={"a.txt": b"a"})
    assert status == 400 and [v.where for v in seen] == [("tts",)]


async def test_an_unexpected_violation_is_kept_for_the_teardown_check(
    dd: DiscordDouble, http: aiohttp.ClientSession, channel: Channel
) -> None:
    start = len(contract.UNEXPECTED)
    status, _ = await send(http, dd, f"/channels/{channel.id}/messages", {"content": 5})
    found = contract.UNEXPECTED[start:]
    del contract.UNEXPECTED[start:]  # this test meant it: don't fail it at teardown
    assert status == 400 and [v.where for v in found] == [("content",)]


def test_a_violation_fails_the_test_that_sent_it(tmp_path: Path) -> None:
    """Through pytest itself, with this repository's conftest: the test that sends a bad body
    errors at teardown naming the request; the next test, clean, passes."""
    probe = tmp_path / "test_probe.py"
    probe.write_text(
        textwrap.dedent(
            """
            import aiohttp

            from tests.double import DiscordDouble


            async def test_sends_a_bad_body(dd: DiscordDouble) -> None:
                ch = dd.add_channel(dd.add_guild("G"), "c")
                url = f"{dd.api_base}/channels/{ch.id}/messages"
                auth = {"Authorization": f"Bot {dd.token}"}
                async with aiohttp.ClientSession(headers=auth) as s:
                    async with s.post(url, json={"embeds": [{"title": "t" * 300}]}) as r:
                        assert r.status == 400


            async def test_sends_nothing(dd: DiscordDouble) -> None:
                assert not dd.contract_violations
            """
        )
    )
    run = subprocess.run(
        [
            *(sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "tests.conftest"),
            *("--rootdir", str(ROOT), "-c", str(ROOT / "pyproject.toml"), str(probe)),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    out = run.stdout + run.stderr
    assert run.returncode == 1, out
    assert "ERROR at teardown of test_sends_a_bad_body" in out, out
    assert "(create_message) at embeds.0.title: maxLength 256, got 300" in out, out
    assert "2 passed, 1 error" in out, out


# ----------------------------------------------------------------------------- the allow-list
async def test_integer_attachment_ids_are_a_known_quirk_nothing_more(
    dd: DiscordDouble, http: aiohttp.ClientSession, channel: Channel
) -> None:
    """discord.py names uploads by index and kept attachments by int id: allowed. An id that is
    no number, or an integer snowflake elsewhere (sticker_ids), is still a violation."""
    path = f"/channels/{channel.id}/messages"
    attach = {"content": "file", "attachments": [{"id": 0, "filename": "a.txt"}]}
    status, created = await send(http, dd, path, attach, files={"a.txt": b"a"})
    assert status == 200
    kept = {"attachments": [{"id": int(created["attachments"][0]["id"]), "filename": "a.txt"}]}
    status, _ = await send(http, dd, f"{path}/{created['id']}", kept, method="PATCH")
    assert status == 200 and dd.contract_violations == []
    with dd.expect_contract_violations() as seen:
        bad = {"attachments": [{"id": "first"}]}
        await send(http, dd, f"{path}/{created['id']}", bad, method="PATCH")
        await send(http, dd, path, {"content": "x", "sticker_ids": [123]})
    assert [v.dotted for v in seen] == ["attachments.0.id", "sticker_ids.0"]


def test_every_quirk_says_why() -> None:
    for quirk in contract.QUIRKS:
        assert quirk.operations and quirk.where and len(quirk.why) > 40, quirk
        assert quirk.where[0] != "*", f"a quirk must name where it applies: {quirk}"


# ----------------------------------------------------------------------------- Components V2
async def refused(
    dd: DiscordDouble,
    http: aiohttp.ClientSession,
    channel: Channel,
    body: dict[str, Any],
    files: dict[str, bytes] | None = None,
) -> set[str]:
    """The paths of the 400 / 50035 the double answers; asserts it refused the body."""
    status, answer = await send(http, dd, f"/channels/{channel.id}/messages", body, files=files)
    assert status == 400 and answer["code"] == 50035, (body, answer)
    return error_paths(answer)


async def accepted(
    dd: DiscordDouble,
    http: aiohttp.ClientSession,
    channel: Channel,
    body: dict[str, Any],
    files: dict[str, bytes] | None = None,
) -> None:
    status, answer = await send(http, dd, f"/channels/{channel.id}/messages", body, files=files)
    assert status == 200, answer


async def test_v2_text_displays_total_at_most_4000_characters(
    dd: DiscordDouble, http: aiohttp.ClientSession, channel: Channel
) -> None:
    """Each text display may have 4000; the message as a whole too. The spec only knows the
    first, so this is the double's own limit (no violation recorded)."""
    over = v2({"type": 17, "components": [text("a" * 2000), text("b" * 2001)]})
    assert await refused(dd, http, channel, over) == {"components"}
    assert dd.contract_violations == []
    in_section = v2(text("a" * 3999), section(text("bc"), accessory=button()))
    assert await refused(dd, http, channel, in_section) == {"components"}
    await accepted(dd, http, channel, v2(text("a" * 2000), text("b" * 2000)))


async def test_a_v2_section_has_1_to_3_texts_and_one_accessory(
    dd: DiscordDouble, http: aiohttp.ClientSession, channel: Channel
) -> None:
    dd.check_contract = False  # the spec refuses these too: reach the double's own rules
    cases = {
        "no text": (section(accessory=button()), "components.0.components"),
        "four texts": (
            section(*(text(str(i)) for i in range(4)), accessory=button()),
            "components.0.components",
        ),
        "not a text": (section(button("x"), accessory=button()), "components.0.components.0.type"),
        "no accessory": (section(text("hi")), "components.0.accessory"),
        "a row as accessory": (
            section(text("hi"), accessory={"type": 1, "components": [button("r")]}),
            "components.0.accessory.type",
        ),
    }
    for name, (comp, where) in cases.items():
        assert where in await refused(dd, http, channel, v2(comp)), name
    three = [text("a"), text("b"), text("c")]
    await accepted(dd, http, channel, v2(section(*three, accessory=button())))
    await accepted(dd, http, channel, v2(section(text("a"), accessory=thumbnail("https://x.io/a"))))
    dd.check_contract = True
    with dd.expect_contract_violations() as seen:  # and so does the spec
        await refused(dd, http, channel, v2(section(text("hi"))))
    assert [v.where for v in seen] == [("components", 0)]


async def test_v2_media_needs_an_http_or_attached_url(
    dd: DiscordDouble, http: aiohttp.ClientSession, channel: Channel
) -> None:
    """The spec only asks for a string: the scheme and the attached file are the double's."""

    def thumb(url: str) -> dict[str, Any]:
        return v2(section(text("hi"), accessory=thumbnail(url)))

    def gallery(*urls: str) -> dict[str, Any]:
        return v2({"type": 12, "items": [{"media": {"url": u}} for u in urls]})

    where = "components.0.accessory.media.url"
    for url in ("ftp://x.io/a.png", "https://", "a.png", "attachment://missing.png"):
        assert await refused(dd, http, channel, thumb(url)) == {where}, url
    bad_gallery = gallery("https://x.io/a.png", "attachment://b.png")
    assert await refused(dd, http, channel, bad_gallery) == {"components.0.items.1.media.url"}
    assert dd.contract_violations == []
    await accepted(dd, http, channel, thumb("https://x.io/a.png"))
    await accepted(dd, http, channel, thumb("http://x.io/a.png"))
    files = {"chart.png": b"\x89PNG"}
    with_file = {**thumb("attachment://chart.png"), "attachments": [{"id": 0}]}
    await accepted(dd, http, channel, with_file, files=files)
    await accepted(dd, http, channel, gallery("attachment://chart.png"), files=files)


async def test_a_v2_media_gallery_holds_1_to_10_items(
    dd: DiscordDouble, http: aiohttp.ClientSession, channel: Channel
) -> None:
    item = {"media": {"url": "https://x.io/a.png"}}
    dd.check_contract = False
    for n in (0, 11):
        body = v2({"type": 12, "items": [item] * n})
        assert await refused(dd, http, channel, body) == {"components.0.items"}, n
    await accepted(dd, http, channel, v2({"type": 12, "items": [item] * 10}))
    dd.check_contract = True
    with dd.expect_contract_violations():
        await refused(dd, http, channel, v2({"type": 12, "items": []}))


async def test_a_v2_container_holds_only_rows_texts_sections_galleries_separators_files(
    dd: DiscordDouble, http: aiohttp.ClientSession, channel: Channel
) -> None:
    dd.check_contract = False
    for child in (thumbnail("https://x.io/a.png"), {"type": 17, "components": [text("x")]}):
        body = v2({"type": 17, "components": [text("ok"), child]})
        assert await refused(dd, http, channel, body) == {"components.0.components.1.type"}
    allowed = [
        {"type": 1, "components": [button()]},
        text("t"),
        section(text("s"), accessory=button("s")),
        {"type": 12, "items": [{"media": {"url": "https://x.io/a.png"}}]},
        {"type": 14, "divider": True},
        {"type": 13, "file": {"url": "attachment://notes.txt"}},
    ]
    files = {"notes.txt": b"n"}
    await accepted(dd, http, channel, v2({"type": 17, "components": allowed}), files=files)
    dd.check_contract = True
    await accepted(dd, http, channel, v2({"type": 17, "components": allowed}), files=files)


async def test_without_the_v2_flag_top_level_components_are_rows(
    dd: DiscordDouble, http: aiohttp.ClientSession, channel: Channel
) -> None:
    body = {"content": "x", "components": [text("not without the flag")]}
    assert await refused(dd, http, channel, body) == {"components.0.type"}
    assert dd.contract_violations == []  # the spec doesn't know the flag's meaning
