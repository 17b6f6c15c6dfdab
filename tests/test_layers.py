"""The shape of the code: layers kept apart, every cog loads, and the command contract holds.

COMMANDS.md fixes command and option names (other programs drive the bot by them); this test
keeps the registered tree true to it.
"""

from __future__ import annotations

import ast
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from discord import app_commands

from bot.client import Breakroom, cog_extensions
from bot.config import Settings
from bot.courier import Courier
from bot.db import Database
from bot.services import Services

ROOT = Path(__file__).resolve().parent.parent
#: the core's Discord layer: the client, the entry point, and the outbox's one sender
DISCORD_GLUE = {
    "client.py",
    "__main__.py",
    "courier.py",
    "translator.py",
    "launch.py",
    "routing.py",
    "quick_reply.py",
    "speedups.py",
}

# command -> the option names COMMANDS.md gives it (extra optional options are allowed)
CONTRACT: dict[str, set[str]] = {
    "help": set(),
    "privacy": set(),
    "forget-me": set(),
    "team create": {"name", "channel", "role", "timezone"},
    "team edit": {"team", "name", "channel", "role", "timezone"},
    "team list": set(),
    "team delete": {"team"},
    "prompt add": {"text"},
    "prompt list": {"page"},
    "prompt remove": {"prompt"},
    "prompt post": {"team", "prompt"},
    "prompt schedule": {"team", "weekday", "time"},
    "prompt answer": {"team"},
    "prompt answers": {"team", "post"},
    "poll create": {
        "question",
        "options",
        "team",
        "multiple",
        "anonymous",
        "hide_results",
        "duration",
    },
    "poll close": {"poll"},
    "poll results": {"poll"},
    "poll list": {"team"},
    "poll rerun": {"poll"},
    "reflect": {"team"},
    "reflections delete": {"code"},
    "reflections hide": {"code"},
    "reflections settings": {"team", "threshold"},
    "history": {"team", "weeks"},
    "export": {"team", "format"},
}
MANAGER_ONLY = {
    "team create",
    "team edit",
    "team delete",
    "prompt add",
    "prompt remove",
    "prompt post",
    "prompt schedule",
    "reflections hide",
    "reflections settings",
    "export",
}


def imports_of(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize(
    "path",
    [p for p in sorted((ROOT / "bot").glob("*.py")) if p.name not in DISCORD_GLUE],
    ids=lambda p: p.name,
)
def test_feature_logic_imports_nothing_from_discord(path: Path) -> None:
    assert not imports_of(path) & {"discord", "cogs"}, f"{path.name} reaches for Discord"


def test_the_core_never_imports_the_glue() -> None:
    """bot/ (client and entry point included) finds the cogs by their folder, never imports them."""
    reaching = [p.name for p in sorted((ROOT / "bot").glob("*.py")) if "cogs" in imports_of(p)]
    assert reaching == [], f"bot/ modules importing cogs: {reaching}"


MAX_MODULE_LINES = 400
MAX_CLASS_LINES = 250


def module_lines(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines())


@pytest.mark.parametrize(
    "path",
    sorted((ROOT / "bot").glob("*.py")) + sorted((ROOT / "cogs").glob("*.py")),
    ids=lambda p: f"{p.parent.name}/{p.name}",
)
def test_no_module_is_over_400_lines(path: Path) -> None:
    lines = module_lines(path)
    assert lines <= MAX_MODULE_LINES, f"{path.name} has {lines} lines"


@pytest.mark.parametrize(
    "path",
    sorted((ROOT / "bot").glob("*.py")) + sorted((ROOT / "cogs").glob("*.py")),
    ids=lambda p: f"{p.parent.name}/{p.name}",
)
def test_no_class_is_over_250_lines(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            assert node.end_lineno is not None
            lines = node.end_lineno - node.lineno + 1
            assert lines <= MAX_CLASS_LINES, f"{path.name}: {node.name} has {lines} lines"


def core_import_graph() -> dict[str, set[str]]:
    """bot module -> the bot modules it imports, anywhere in it (TYPE_CHECKING blocks and imports
    inside functions included)."""
    modules = {p.stem for p in (ROOT / "bot").glob("*.py")}
    graph: dict[str, set[str]] = {}
    for name in modules:
        found: set[str] = set()
        source = (ROOT / "bot" / f"{name}.py").read_text(encoding="utf-8")
        for node in ast.walk(ast.parse(source)):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                # `from bot import errors` imports the module bot.errors
                targets = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            for target in targets:
                parts = target.split(".")
                if len(parts) >= 2 and parts[0] == "bot" and parts[1] in modules:
                    found.add(parts[1])
        graph[name] = found - {name}
    return graph


def reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    """The modules `start` imports, directly or through others."""
    seen: set[str] = set()
    stack = [start]
    while stack:
        for nxt in graph[stack.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return seen


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The groups of modules that import each other (directly or through others), sorted."""
    reach = {module: reachable(graph, module) for module in graph}
    groups = {
        frozenset({module} | {other for other in reach[module] if module in reach[other]})
        for module in graph
        if module in reach[module]
    }
    return sorted(sorted(group) for group in groups)


def test_the_circle_finder_finds_circles() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": {"f"}, "f": {"e"}}
    assert circles(graph) == [["a", "b", "c"], ["e", "f"]]
    assert circles({"a": {"b", "c"}, "b": {"c"}, "c": set()}) == []


def test_no_import_circle_among_core_modules() -> None:
    found = circles(core_import_graph())
    assert found == [], "bot/ modules importing each other: " + "; ".join(
        " ↔ ".join(group) for group in found
    )


SQL = re.compile(r"\b(SELECT\s+.+\s+FROM|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM)\b", re.I)


@pytest.mark.parametrize("path", sorted((ROOT / "cogs").glob("*.py")), ids=lambda p: p.name)
def test_cogs_write_no_sql(path: Path) -> None:
    assert not SQL.search(path.read_text(encoding="utf-8")), f"{path.name} contains SQL"


#: What only the outbox's sender (bot/courier.py) does: send to a channel or thread, open a
#: thread, delete a message, look through a channel's history, send with a nonce.
SENDING = re.compile(
    r"(channel|thread|messageable)\.send\(|\.create_thread\(|delete_message\(|\.history\(|nonce="
)


@pytest.mark.parametrize("path", sorted((ROOT / "cogs").glob("*.py")), ids=lambda p: p.name)
def test_only_the_one_sender_posts_threads_or_deletes(path: Path) -> None:
    found = SENDING.search(path.read_text(encoding="utf-8"))
    assert found is None, (
        f"{path.name} sends by itself ({found and found.group(0)}): use the outbox"
    )


@pytest.mark.parametrize(
    "path",
    [p for p in sorted((ROOT / "bot").glob("*.py")) if p.name != "outbox.py"],
    ids=lambda p: p.name,
)
def test_only_the_outbox_reads_or_writes_its_table(path: Path) -> None:
    uses = re.search(r"\b(FROM|INTO|UPDATE|JOIN)\s+deliveries\b", path.read_text(encoding="utf-8"))
    assert uses is None, f"{path.name} uses the outbox's table"


@pytest.fixture
async def loaded_bot(tmp_path: Path) -> AsyncIterator[Breakroom]:
    database = await Database.open(tmp_path / "b.db")
    bot = Breakroom(Settings(token="unused", database_path=tmp_path / "b.db"), database=database)
    bot.services = Services(database, bot.clock, b"k" * 32)  # what setup_hook builds
    bot.courier = Courier(bot, bot.services.outbox, bot.clock, bot.scheduler.wake)
    try:
        for extension in cog_extensions():
            await bot.load_extension(extension)  # raises if two commands share a name
        yield bot
    finally:
        await bot.close()


async def test_every_cog_loads_and_the_tree_keeps_the_contract(loaded_bot: Breakroom) -> None:
    tree = loaded_bot.tree
    leaves = {
        c.qualified_name: c for c in tree.walk_commands() if isinstance(c, app_commands.Command)
    }
    missing = sorted(set(CONTRACT) - set(leaves))
    assert missing == [], f"commands missing from the tree: {missing}"
    for name, options in CONTRACT.items():
        params = {p.name for p in leaves[name].parameters}
        assert options <= params, f"/{name} lacks options {sorted(options - params)}"
        for param in leaves[name].parameters:
            if param.name not in options:
                assert not param.required, f"/{name} has an extra required option {param.name}"


async def test_manager_commands_are_manager_only_by_default(loaded_bot: Breakroom) -> None:
    for command in loaded_bot.tree.walk_commands():
        if not isinstance(command, app_commands.Command):
            continue
        permissions = command.default_permissions
        if permissions is None and command.parent is not None:
            permissions = command.parent.default_permissions
        is_manager_only = permissions is not None and permissions.manage_guild
        if command.qualified_name in MANAGER_ONLY:
            assert is_manager_only, f"/{command.qualified_name} should need Manage Server"
        else:
            assert not is_manager_only, f"/{command.qualified_name} should be open to everyone"


async def test_descriptions_fit_discord(loaded_bot: Breakroom) -> None:
    for command in loaded_bot.tree.walk_commands():
        assert 1 <= len(command.description) <= 100, command.qualified_name
        if isinstance(command, app_commands.Command):
            for param in command.parameters:
                assert 1 <= len(param.description) <= 100, (command.qualified_name, param.name)
                assert param.description != "…", (command.qualified_name, param.name)


FEATURES = (
    "Teams",
    "Prompts",
    "PromptBank",
    "PromptAnswers",
    "Polls",
    "Reflections",
    "ReflectionBatches",
    "History",
    "Lifetime",
)


@pytest.mark.parametrize("path", sorted((ROOT / "cogs").glob("*.py")), ids=lambda p: p.name)
def test_cogs_use_the_bots_services_and_build_no_feature_object(path: Path) -> None:
    """Feature objects are built once, in bot/services.py (some keep state in memory)."""
    built = [
        node.func.id
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in FEATURES
    ]
    assert built == [], f"{path.name} builds {built}: use bot.services"
