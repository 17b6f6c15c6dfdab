"""Discord's own contract: every request body checked against its official OpenAPI 3.1 spec.

The spec is vendored as ``discord-openapi.json.gz`` (tests/test_double_contract.py keeps it
identical to ../shared/discord-openapi.json when that exists). ``find_operation`` matches a
request to the spec's operation; ``check_body`` validates the body (the JSON body, or a multipart
upload's ``payload_json``) against that operation's requestBody schema (JSON Schema 2020-12, each
validator compiled once per process) and returns the violations the allow-list below does not
explain. The double records them (``dd.contract_violations``), answers them as Discord answers
an invalid body (400, code 50035) and tests/conftest.py fails the test that caused them.
"""

from __future__ import annotations

import functools
import gzip
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator  # type: ignore[import-untyped]
from jsonschema.exceptions import ValidationError  # type: ignore[import-untyped]
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from .limits import FormErrors

SPEC_FILE = Path(__file__).with_name("discord-openapi.json.gz")
SPEC_URI = "urn:discord:openapi"
JSON = "application/json"

JsonPath = tuple[str | int, ...]
_TOKEN_RE = re.compile(r"^(/(?:interactions|webhooks)/\d+/)[^/]+")


@dataclass(frozen=True)
class Violation:
    """One place in one request body that the spec refuses."""

    method: str
    path: str  # the request's path under /api/v10, ids and all
    operation: str  # the spec's operationId
    where: JsonPath  # where in the body
    message: str
    code: str  # the validator that failed (maxLength, oneOf, required, ...)

    @property
    def dotted(self) -> str:
        return ".".join(str(p) for p in self.where) or "(body)"

    def __str__(self) -> str:
        path = _TOKEN_RE.sub(r"\1<token>", self.path)
        return f"{self.method} {path} ({self.operation}) at {self.dotted}: {self.message}"


@dataclass(frozen=True)
class Quirk:
    """A place where discord.py's body differs from the spec and Discord accepts it anyway."""

    operations: frozenset[str]
    where: JsonPath  # "*" matches any one key or index
    validator: str  # the JSON Schema keyword waived there
    expected: Any  # ... with this value (e.g. type "string")
    accepts: Callable[[Any], bool]
    why: str

    def explains(self, operation: str, error: ValidationError) -> bool:
        where = tuple(error.absolute_path)
        return (
            operation in self.operations
            and error.validator == self.validator
            and error.validator_value == self.expected
            and len(where) == len(self.where)
            and all(q == "*" or q == p for q, p in zip(self.where, where, strict=True))
            and self.accepts(error.instance)
        )


def _integer_id(value: Any) -> bool:
    """A snowflake or an upload index as a JSON integer (Discord reads both as the string)."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**64


_MESSAGE_BODIES = frozenset(
    {
        "create_message",
        "update_message",
        "execute_webhook",
        "update_original_webhook_message",
        "update_webhook_message",
    }
)
_UPLOAD_WHY = (
    "discord.py lists attachments with integer ids: a new upload by its index in the multipart "
    "form (`{'id': 0}` for files[0], http.handle_message_parameters), a kept one by "
    "Attachment.to_dict() (`'id': self.id`, an int); Discord documents and accepts both, the "
    "spec types the id as a snowflake string"
)
_MENTIONS_WHY = (
    "discord.py's AllowedMentions.to_dict() lists the user and role ids as ints; Discord "
    "accepts them, the spec types them as snowflake strings"
)
_REFERENCE_WHY = (
    "discord.py's MessageReference.to_message_reference_dict() sends the reply's ids as ints; "
    "Discord accepts them, the spec types them as snowflake strings"
)

_CALLBACK = frozenset({"create_interaction_response"})


def _integer_ids(operations: frozenset[str], where: JsonPath, why: str) -> Quirk:
    """At `where`, an integer id is fine where the spec asks for a snowflake string."""
    return Quirk(operations, where, "type", "string", _integer_id, why)


#: The allow-list: keep it short, each entry one operation set + one JSON path + why.
QUIRKS: tuple[Quirk, ...] = (
    _integer_ids(_MESSAGE_BODIES, ("attachments", "*", "id"), _UPLOAD_WHY),
    _integer_ids(_CALLBACK, ("data", "attachments", "*", "id"), _UPLOAD_WHY),
    _integer_ids(_MESSAGE_BODIES, ("allowed_mentions", "roles", "*"), _MENTIONS_WHY),
    _integer_ids(_MESSAGE_BODIES, ("allowed_mentions", "users", "*"), _MENTIONS_WHY),
    _integer_ids(_CALLBACK, ("data", "allowed_mentions", "roles", "*"), _MENTIONS_WHY),
    _integer_ids(_CALLBACK, ("data", "allowed_mentions", "users", "*"), _MENTIONS_WHY),
    _integer_ids(
        frozenset({"create_message"}), ("message_reference", "message_id"), _REFERENCE_WHY
    ),
    _integer_ids(
        frozenset({"create_message"}), ("message_reference", "channel_id"), _REFERENCE_WHY
    ),
    _integer_ids(frozenset({"create_message"}), ("message_reference", "guild_id"), _REFERENCE_WHY),
)


# ----------------------------------------------------------------------------- the spec
@functools.cache
def spec() -> dict[str, Any]:
    with gzip.open(SPEC_FILE, "rb") as f:
        loaded: dict[str, Any] = json.load(f)
    return loaded


@functools.cache
def _registry() -> Registry[Any]:
    resource: Resource[Any] = Resource.from_contents(spec(), default_specification=DRAFT202012)
    registry: Registry[Any] = Registry().with_resource(SPEC_URI, resource)
    return registry


def _pointer(*parts: str) -> str:
    return "/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


@dataclass(frozen=True)
class Operation:
    method: str
    template: str  # the spec's path, e.g. /channels/{channel_id}/messages
    operation_id: str
    has_body: bool

    @functools.cached_property
    def validator(self) -> Draft202012Validator:
        """Compiled on first use, then kept for the process (operations are cached below)."""
        ref = SPEC_URI + "#" + _pointer("paths", self.template, self.method.lower())
        ref += _pointer("requestBody", "content", JSON, "schema")
        return Draft202012Validator({"$ref": ref}, registry=_registry())


@functools.cache
def _operations() -> dict[str, list[tuple[re.Pattern[str], Operation]]]:
    by_method: dict[str, list[tuple[int, re.Pattern[str], Operation]]] = {}
    for template, item in spec()["paths"].items():
        parts = template.strip("/").split("/")
        regex = "/".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts)
        literal = sum(not p.startswith("{") for p in parts)
        for method, op in item.items():
            if not isinstance(op, dict) or "operationId" not in op:
                continue
            has_body = JSON in (op.get("requestBody") or {}).get("content", {})
            operation = Operation(method.upper(), template, op["operationId"], has_body)
            entry = (literal, re.compile("/" + regex), operation)
            by_method.setdefault(method.upper(), []).append(entry)
    # a literal segment beats a parameter: /messages/@original before /messages/{message_id}
    return {
        m: [(rx, op) for _, rx, op in sorted(ops, key=lambda e: -e[0])]
        for m, ops in by_method.items()
    }


@functools.lru_cache(maxsize=4096)
def find_operation(method: str, path: str) -> Operation | None:
    for regex, operation in _operations().get(method.upper(), []):
        if regex.fullmatch(path):
            return operation
    return None


# ----------------------------------------------------------------------------- checking
def check_body(method: str, path: str, body: Any) -> list[Violation]:
    """The violations in a request body (None: no body sent, nothing to check)."""
    if body is None:
        return []
    operation = find_operation(method, path)
    if operation is None:
        return [Violation(method, path, "?", (), "no operation in the spec takes this body", "")]
    found: list[tuple[JsonPath, str, str]]
    if not operation.has_body:
        found = [((), "the operation takes no body", "")]
    else:
        found = _errors(operation, json.dumps(body, sort_keys=True, separators=(",", ":")))
    return [Violation(method, path, operation.operation_id, *f) for f in found]


@functools.lru_cache(maxsize=4096)
def _errors(operation: Operation, body: str) -> list[tuple[JsonPath, str, str]]:
    """Validated once per distinct body: the bot sends the same command sync, deferrals and
    cards in test after test, and a command sync alone takes ~0.1 s to validate."""
    found: list[tuple[JsonPath, str, str]] = []
    for error in operation.validator.iter_errors(json.loads(body)):
        for leaf in _unexplained(operation.operation_id, error):
            found.append((tuple(leaf.absolute_path), _describe(leaf), str(leaf.validator)))
    return found


def _unexplained(operation: str, error: ValidationError) -> list[ValidationError]:
    """The errors the quirks don't explain; for a union (oneOf/anyOf), the best branch's."""
    if error.validator not in ("oneOf", "anyOf") or not error.context:
        explained = any(q.explains(operation, error) for q in QUIRKS)
        return [] if explained else [error]
    branches: dict[Any, list[ValidationError]] = {}
    for sub in error.context:
        branches.setdefault(sub.relative_schema_path[0], []).append(sub)
    remaining = {
        index: [leaf for sub in subs for leaf in _unexplained(operation, sub)]
        for index, subs in branches.items()
    }
    n_branches = len(error.validator_value)
    passing = n_branches - len(branches) + sum(not leaves for leaves in remaining.values())
    if passing == 1 or (passing > 1 and error.validator == "anyOf"):
        return []  # a quirk made exactly one branch pass (or, for anyOf, at least one)
    if passing > 1:
        return [error]  # oneOf: valid under more than one
    return min(remaining.values(), key=_branch_rank(error))


def _branch_rank(union: ValidationError) -> Callable[[list[ValidationError]], tuple[int, int, int]]:
    """The branch meant: the value is of its kind (its JSON type, its `type` discriminator),
    then the fewest errors."""
    at = tuple(union.absolute_path)

    def rank(leaves: list[ValidationError]) -> tuple[int, int, int]:
        kinds = [
            e.validator_value
            for e in leaves
            if (tuple(e.absolute_path) == at and e.validator == "type")
            or (tuple(e.absolute_path) == (*at, "type") and e.validator in ("enum", "const"))
        ]
        return (int(bool(kinds)), int("null" in kinds), len(leaves))  # "or null" comes last

    return rank


def _describe(error: ValidationError) -> str:
    value = json.dumps(error.instance, default=str)
    shown = value if len(value) <= 60 else value[:57] + "..."
    if error.validator in ("maxLength", "minLength", "maxItems", "minItems"):
        n = len(error.instance) if isinstance(error.instance, str | list | dict) else "?"
        return f"{error.validator} {error.validator_value}, got {n}: {shown}"
    if error.validator in ("oneOf", "anyOf", "required", "additionalProperties"):
        message = str(error.message)
        return message if len(message) <= 160 else message[:157] + "..."
    return f"{error.validator} {json.dumps(error.validator_value, default=str)}, got {shown}"


#: jsonschema keyword -> the code Discord puts in an Invalid Form Body error
_CODES = {
    "maxLength": "BASE_TYPE_MAX_LENGTH",
    "maxItems": "BASE_TYPE_MAX_LENGTH",
    "minLength": "BASE_TYPE_MIN_LENGTH",
    "minItems": "BASE_TYPE_MIN_LENGTH",
    "required": "BASE_TYPE_REQUIRED",
    "enum": "BASE_TYPE_CHOICES",
    "const": "BASE_TYPE_CHOICES",
    "minimum": "NUMBER_TYPE_MIN",
    "maximum": "NUMBER_TYPE_MAX",
    "pattern": "STRING_TYPE_REGEX",
    "oneOf": "UNION_TYPE_CHOICES",
    "anyOf": "UNION_TYPE_CHOICES",
}


def form_errors(violations: Iterable[Violation]) -> FormErrors:
    errs = FormErrors()
    for v in violations:
        errs.add(v.where, _CODES.get(v.code, "BASE_TYPE_INVALID"), v.message)
    return errs


#: violations no test declared it expected (``dd.expect_contract_violations()``), across every
#: double of the process; tests/conftest.py fails the test during which any were added
UNEXPECTED: list[Violation] = []
