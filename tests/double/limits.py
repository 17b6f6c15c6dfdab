"""Discord's payload limits. Each check adds to a FormErrors, which becomes a 400 / code 50035."""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import Any

from .models import MessageFlag, walk_components

Path = tuple[str | int, ...]

COMMAND_NAME_RE = re.compile(r"^[-_'\w]{1,32}$")


class FormErrors:
    """Collects errors in Discord's nested ``errors`` shape: {"content": {"_errors": [...]}}."""

    def __init__(self) -> None:
        self.errors: dict[str, Any] = {}
        self.flat: list[str] = []

    def add(self, path: Path, code: str, message: str) -> None:
        node = self.errors
        for part in path:
            node = node.setdefault(str(part), {})
        node.setdefault("_errors", []).append({"code": code, "message": message})
        self.flat.append(f"{'.'.join(str(p) for p in path) or '(body)'}: {message}")

    def max_len(self, path: Path, value: Any, limit: int) -> None:
        if value is not None and len(str(value)) > limit:
            self.add(path, "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")

    def length_between(self, path: Path, value: Any, low: int, high: int) -> None:
        n = len(str(value)) if value is not None else 0
        if not low <= n <= high:
            self.add(path, "BASE_TYPE_BAD_LENGTH", f"Must be between {low} and {high} in length.")

    def __bool__(self) -> bool:
        return bool(self.errors)

    def __str__(self) -> str:
        return "; ".join(self.flat)


def check_message(
    data: dict[str, Any], errs: FormErrors, path: Path = (), filenames: Collection[str] = ()
) -> None:
    """Content, embeds, components, poll (only the keys present: edits leave the others as is).
    ``filenames``: the files the message will have, for ``attachment://`` media urls."""
    content = data.get("content")
    if content is not None:
        if not isinstance(content, str):
            errs.add(
                (*path, "content"), "STRING_TYPE_CONVERT", "Could not interpret value as string."
            )
        else:
            errs.max_len((*path, "content"), content, 2000)
    embeds = data.get("embeds")
    if embeds is not None:
        check_embeds(embeds, errs, (*path, "embeds"))
    flags = int(data.get("flags") or 0)
    components = data.get("components")
    if components is not None:
        check_components(components, flags, errs, (*path, "components"), filenames)
    if flags & MessageFlag.IS_COMPONENTS_V2 and (content or embeds):
        errs.add(
            (*path, "content"),
            "MESSAGE_CANNOT_USE_LEGACY_FIELDS_WITH_COMPONENTS_V2",
            "The 'content' and 'embeds' fields cannot be used when using "
            "MessageFlags.IS_COMPONENTS_V2",
        )
    poll = data.get("poll")
    if isinstance(poll, dict):
        question = (poll.get("question") or {}).get("text")
        errs.max_len((*path, "poll", "question", "text"), question, 300)
        answers = poll.get("answers") or []
        if not 1 <= len(answers) <= 10:
            errs.add(
                (*path, "poll", "answers"),
                "BASE_TYPE_BAD_LENGTH",
                "Must be between 1 and 10 in length.",
            )
        for i, answer in enumerate(answers):
            text = ((answer or {}).get("poll_media") or {}).get("text")
            errs.max_len((*path, "poll", "answers", i, "poll_media", "text"), text, 55)


SNOWFLAKE_RE = re.compile(r"^(0|[1-9][0-9]*)$")
#: MessageReferenceType: 0 a reply (DEFAULT), 1 a forward
REFERENCE_TYPES = (0, 1)


def check_message_reference(
    ref: Any, errs: FormErrors, path: Path = ("message_reference",)
) -> None:
    """A new message's `message_reference` as the OpenAPI spec has it (MessageReferenceRequest):
    null, or an object with a snowflake `message_id` (required), optional snowflake `channel_id`
    and `guild_id`, a boolean `fail_if_not_exists` and a reference `type`."""
    if ref is None:
        return
    if not isinstance(ref, dict):
        errs.add(path, "MODEL_TYPE_CONVERT", "Only dictionaries may be used in a ModelType")
        return
    if ref.get("message_id") is None:
        errs.add((*path, "message_id"), "BASE_TYPE_REQUIRED", "This field is required")
    for key in ("message_id", "channel_id", "guild_id"):
        value = ref.get(key)
        if value is not None and not (
            isinstance(value, int | str)
            and not isinstance(value, bool)
            and SNOWFLAKE_RE.match(str(value))
        ):
            errs.add((*path, key), "NUMBER_TYPE_COERCE", f'Value "{value}" is not snowflake.')
    fail = ref.get("fail_if_not_exists")
    if fail is not None and not isinstance(fail, bool):
        errs.add(
            (*path, "fail_if_not_exists"), "BASE_TYPE_BOOLEAN", "Must be either true or false."
        )
    kind = ref.get("type")
    if kind is not None and (isinstance(kind, bool) or kind not in REFERENCE_TYPES):
        errs.add((*path, "type"), "BASE_TYPE_CHOICES", "Value must be one of {0, 1}.")


def is_empty_message(data: dict[str, Any], n_attachments: int) -> bool:
    return not (
        data.get("content")
        or data.get("embeds")
        or data.get("components")
        or data.get("sticker_ids")
        or data.get("poll")
        or n_attachments
    )


def check_embeds(embeds: Any, errs: FormErrors, path: Path) -> None:
    if not isinstance(embeds, list):
        errs.add(path, "BASE_TYPE_ARRAY", "Must be an array.")
        return
    if len(embeds) > 10:
        errs.add(path, "BASE_TYPE_MAX_LENGTH", "Must be 10 or fewer in length.")
    total = 0
    for i, embed in enumerate(embeds):
        p = (*path, i)
        if not isinstance(embed, dict):
            errs.add(p, "MODEL_TYPE_CONVERT", "Only dictionaries may be used in a ModelType")
            continue
        texts = {
            ("title",): (embed.get("title"), 256),
            ("description",): (embed.get("description"), 4096),
            ("footer", "text"): ((embed.get("footer") or {}).get("text"), 2048),
            ("author", "name"): ((embed.get("author") or {}).get("name"), 256),
        }
        for sub, (value, limit) in texts.items():
            errs.max_len(p + sub, value, limit)
            total += len(str(value)) if value is not None else 0
        fields = embed.get("fields") or []
        if len(fields) > 25:
            errs.add((*p, "fields"), "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
        for j, f in enumerate(fields):
            for key, limit in (("name", 256), ("value", 1024)):
                value = (f or {}).get(key)
                if value is None or str(value) == "":
                    errs.add((*p, "fields", j, key), "BASE_TYPE_REQUIRED", "This field is required")
                else:
                    errs.max_len((*p, "fields", j, key), value, limit)
                    total += len(str(value))
    if total > 6000:
        errs.add(path, "MAX_EMBED_SIZE_EXCEEDED", "Embed size exceeds maximum size of 6000")


#: what a container (type 17) may hold: action rows, text displays, sections, media galleries,
#: files, separators
CONTAINER_CHILDREN = (1, 10, 9, 12, 13, 14)
#: a section's accessory: a button or a thumbnail
SECTION_ACCESSORIES = (2, 11)
MAX_V2_TEXT = 4000


def check_components(
    components: Any, flags: int, errs: FormErrors, path: Path, filenames: Collection[str] = ()
) -> None:
    if not isinstance(components, list):
        errs.add(path, "BASE_TYPE_ARRAY", "Must be an array.")
        return
    v2 = bool(flags & MessageFlag.IS_COMPONENTS_V2)
    if v2:
        every = [c for c in walk_components(components) if isinstance(c, dict)]
        if len(every) > 40:
            errs.add(path, "BASE_TYPE_MAX_LENGTH", "Must be 40 or fewer components in total.")
        text = sum(len(str(c.get("content") or "")) for c in every if c.get("type") == 10)
        if text > MAX_V2_TEXT:
            errs.add(
                path,
                "COMPONENTS_TEXT_TOO_LONG",
                f"The text displays of a message must be {MAX_V2_TEXT} or fewer characters "
                f"in total, got {text}.",
            )
    else:
        if len(components) > 5:
            errs.add(path, "BASE_TYPE_MAX_LENGTH", "Must be 5 or fewer in length.")
        for i, row in enumerate(components):
            if (row or {}).get("type") != 1:
                errs.add(
                    (*path, i, "type"),
                    "UNION_TYPE_CHOICES",
                    'Value of field "type" must be one of (1,) without the IS_COMPONENTS_V2 flag.',
                )
    seen: set[str] = set()
    _check_component_list(components, errs, path, seen, frozenset(filenames))


def _check_component_list(
    components: list[Any], errs: FormErrors, path: Path, seen: set[str], files: frozenset[str]
) -> None:
    for i, comp in enumerate(components):
        _check_component(comp, errs, (*path, i), seen, files)


def _check_component(
    comp: Any, errs: FormErrors, p: Path, seen: set[str], files: frozenset[str]
) -> None:
    if not isinstance(comp, dict):
        errs.add(p, "MODEL_TYPE_CONVERT", "Only dictionaries may be used in a ModelType")
        return
    ctype = comp.get("type")
    custom_id = comp.get("custom_id")
    if custom_id is not None:
        errs.max_len((*p, "custom_id"), custom_id, 100)
        if custom_id in seen:
            errs.add(
                (*p, "custom_id"),
                "COMPONENT_CUSTOM_ID_DUPLICATED",
                "Component custom id cannot be duplicated",
            )
        seen.add(custom_id)
    if ctype == 1:
        children = comp.get("components") or []
        buttons = [c for c in children if (c or {}).get("type") == 2]
        others = [c for c in children if (c or {}).get("type") != 2]
        if not 1 <= len(children) <= 5:
            errs.add(
                (*p, "components"),
                "BASE_TYPE_BAD_LENGTH",
                "Must be between 1 and 5 in length.",
            )
        if others and (buttons or len(others) > 1):
            errs.add(
                (*p, "components"),
                "COMPONENT_LAYOUT_WIDTH_EXCEEDED",
                "The specified component exceeds the maximum width",
            )
        _check_component_list(children, errs, (*p, "components"), seen, files)
    elif ctype == 2:
        _check_button(comp, errs, p)
    elif ctype in (3, 5, 6, 7, 8):
        _check_select(comp, errs, p)
    elif ctype in (9, 17):  # section, container
        children = comp.get("components") or []
        if ctype == 9:
            _check_section(comp, errs, p)
        else:
            _check_container(children, errs, p)
        _check_component_list(children, errs, (*p, "components"), seen, files)
        if isinstance(comp.get("accessory"), dict):
            _check_component(comp["accessory"], errs, (*p, "accessory"), seen, files)
    elif ctype == 10:
        errs.max_len((*p, "content"), comp.get("content"), 4000)
    elif ctype == 11:  # thumbnail
        _check_media((comp.get("media") or {}).get("url"), errs, (*p, "media", "url"), files)
    elif ctype == 12:  # media gallery
        items = comp.get("items") or []
        if not 1 <= len(items) <= 10:
            errs.add((*p, "items"), "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 10 in length.")
        for j, item in enumerate(items):
            url = ((item or {}).get("media") or {}).get("url")
            _check_media(url, errs, (*p, "items", j, "media", "url"), files)
    elif ctype == 13:  # file: only an uploaded one
        url = (comp.get("file") or {}).get("url")
        _check_media(url, errs, (*p, "file", "url"), files, schemes=())


def _check_section(comp: dict[str, Any], errs: FormErrors, p: Path) -> None:
    """1 to 3 text displays, and one accessory: a button or a thumbnail."""
    children = comp.get("components") or []
    if not 1 <= len(children) <= 3:
        errs.add((*p, "components"), "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 3 in length.")
    for j, child in enumerate(children):
        if (child or {}).get("type") != 10:
            errs.add(
                (*p, "components", j, "type"),
                "UNION_TYPE_CHOICES",
                'Value of field "type" must be one of (10,).',
            )
    accessory = comp.get("accessory")
    if accessory is None:
        errs.add((*p, "accessory"), "BASE_TYPE_REQUIRED", "This field is required")
    elif not isinstance(accessory, dict):
        errs.add((*p, "accessory"), "MODEL_TYPE_CONVERT", "Only dictionaries may be used")
    elif accessory.get("type") not in SECTION_ACCESSORIES:
        errs.add(
            (*p, "accessory", "type"),
            "UNION_TYPE_CHOICES",
            'Value of field "type" must be one of (2, 11).',
        )


def _check_container(children: list[Any], errs: FormErrors, p: Path) -> None:
    for j, child in enumerate(children):
        if (child or {}).get("type") not in CONTAINER_CHILDREN:
            errs.add(
                (*p, "components", j, "type"),
                "UNION_TYPE_CHOICES",
                f'Value of field "type" must be one of {CONTAINER_CHILDREN}.',
            )


def _check_media(
    url: Any,
    errs: FormErrors,
    path: Path,
    files: frozenset[str],
    schemes: tuple[str, ...] = ("http://", "https://"),
) -> None:
    """A media url: http(s) (unless ``schemes`` is empty), or attachment://<a file sent with
    the message>."""
    if not isinstance(url, str) or not url:
        errs.add(path, "BASE_TYPE_REQUIRED", "This field is required")
    elif url.startswith("attachment://"):
        name = url.removeprefix("attachment://")
        if name not in files:
            errs.add(
                path,
                "UNFURLED_MEDIA_ATTACHMENT_NOT_FOUND",
                f"attachment://{name} names no file of this message",
            )
    elif not url.startswith(schemes) or url in schemes:
        allowed = ", ".join(s.removesuffix("://") for s in (*schemes, "attachment://"))
        errs.add(path, "UNFURLED_MEDIA_URL_INVALID", f"Scheme must be one of: {allowed}")


def _check_button(comp: dict[str, Any], errs: FormErrors, p: Path) -> None:
    errs.max_len((*p, "label"), comp.get("label"), 80)
    style = comp.get("style")
    if style == 5:
        if not comp.get("url"):
            errs.add((*p, "url"), "BASE_TYPE_REQUIRED", "This field is required")
    elif style != 6 and not comp.get("custom_id"):
        errs.add((*p, "custom_id"), "BASE_TYPE_REQUIRED", "This field is required")
    if style != 6 and not comp.get("label") and not comp.get("emoji"):
        errs.add(
            p, "BUTTON_COMPONENT_LABEL_OR_EMOJI_REQUIRED", "A button must have a label or an emoji"
        )


def _check_select(comp: dict[str, Any], errs: FormErrors, p: Path) -> None:
    errs.max_len((*p, "placeholder"), comp.get("placeholder"), 150)
    if not comp.get("custom_id"):
        errs.add((*p, "custom_id"), "BASE_TYPE_REQUIRED", "This field is required")
    min_v = comp.get("min_values", 1)
    max_v = comp.get("max_values", 1)
    if min_v is not None and not 0 <= int(min_v) <= 25:
        errs.add((*p, "min_values"), "NUMBER_TYPE_MAX", "int value should be between 0 and 25.")
    if max_v is not None and not 1 <= int(max_v) <= 25:
        errs.add((*p, "max_values"), "NUMBER_TYPE_MAX", "int value should be between 1 and 25.")
    if comp.get("type") == 3:
        options = comp.get("options") or []
        if not 1 <= len(options) <= 25:
            errs.add((*p, "options"), "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 25 in length.")
        if max_v is not None and options and int(max_v) > len(options):
            errs.add(
                (*p, "max_values"),
                "SELECT_COMPONENT_MAX_VALUES_EXCEEDED",
                "max_values must be less than or equal to the number of options",
            )
        values: set[str] = set()
        for j, opt in enumerate(options):
            errs.length_between((*p, "options", j, "label"), opt.get("label"), 1, 100)
            errs.length_between((*p, "options", j, "value"), opt.get("value"), 1, 100)
            errs.max_len((*p, "options", j, "description"), opt.get("description"), 100)
            if opt.get("value") in values:
                errs.add(
                    (*p, "options", j, "value"),
                    "SELECT_COMPONENT_OPTION_VALUE_DUPLICATED",
                    "Select component option values must be unique",
                )
            values.add(opt.get("value"))


def check_modal(data: dict[str, Any], errs: FormErrors, path: Path = ("data",)) -> None:
    errs.length_between((*path, "title"), data.get("title"), 1, 45)
    errs.length_between((*path, "custom_id"), data.get("custom_id"), 1, 100)
    components = data.get("components") or []
    if not 1 <= len(components) <= 5:
        errs.add(
            (*path, "components"), "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 5 in length."
        )
    seen: set[str] = set()
    for i, top in enumerate(components):
        p = (*path, "components", i)
        ttype = (top or {}).get("type")
        if ttype == 1:
            inner = top.get("components") or []
            if len(inner) != 1:
                errs.add(
                    (*p, "components"),
                    "BASE_TYPE_BAD_LENGTH",
                    "Must be between 1 and 1 in length.",
                )
            items = [((*p, "components", j), c) for j, c in enumerate(inner)]
        elif ttype == 18:
            errs.length_between((*p, "label"), top.get("label"), 1, 45)
            errs.max_len((*p, "description"), top.get("description"), 100)
            items = [((*p, "component"), top.get("component") or {})]
        elif ttype == 10:
            errs.max_len((*p, "content"), top.get("content"), 4000)
            items = []
        else:
            errs.add(
                (*p, "type"),
                "UNION_TYPE_CHOICES",
                'Value of field "type" must be one of (1, 10, 18).',
            )
            items = []
        for ip, comp in items:
            custom_id = comp.get("custom_id")
            errs.length_between((*ip, "custom_id"), custom_id, 1, 100)
            if custom_id in seen:
                errs.add(
                    (*ip, "custom_id"),
                    "COMPONENT_CUSTOM_ID_DUPLICATED",
                    "Component custom id cannot be duplicated",
                )
            seen.add(custom_id)
            if comp.get("type") == 4:
                if ttype == 1:
                    errs.length_between((*ip, "label"), comp.get("label"), 1, 45)
                else:
                    errs.max_len((*ip, "label"), comp.get("label"), 45)
                errs.max_len((*ip, "placeholder"), comp.get("placeholder"), 100)
                errs.max_len((*ip, "value"), comp.get("value"), 4000)
                for key in ("min_length", "max_length"):
                    value = comp.get(key)
                    if (
                        value is not None
                        and not (0 if key == "min_length" else 1) <= int(value) <= 4000
                    ):
                        errs.add(
                            (*ip, key), "NUMBER_TYPE_MAX", f"{key} must be between 0 and 4000."
                        )
            elif comp.get("type") in (3, 5, 6, 7, 8):
                _check_select(comp, errs, ip)


def check_choices(data: dict[str, Any], errs: FormErrors, path: Path = ("data",)) -> None:
    choices = data.get("choices")
    if not isinstance(choices, list):
        errs.add((*path, "choices"), "BASE_TYPE_REQUIRED", "This field is required")
        return
    if len(choices) > 25:
        errs.add((*path, "choices"), "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
    for i, choice in enumerate(choices):
        errs.length_between((*path, "choices", i, "name"), (choice or {}).get("name"), 1, 100)
        value = (choice or {}).get("value")
        if isinstance(value, str):
            errs.max_len((*path, "choices", i, "value"), value, 100)


def check_thread_name(name: Any, errs: FormErrors, path: Path = ("name",)) -> None:
    errs.length_between(path, name, 1, 100)


def check_commands(commands: Any, errs: FormErrors) -> None:
    if not isinstance(commands, list):
        errs.add((), "BASE_TYPE_ARRAY", "Must be an array.")
        return
    seen: set[tuple[int, Any]] = set()
    chat = 0
    for i, cmd in enumerate(commands):
        ctype = int((cmd or {}).get("type") or 1)
        name = (cmd or {}).get("name")
        chat += ctype == 1
        if (ctype, name) in seen:
            errs.add(
                (i, "name"),
                "APPLICATION_COMMANDS_DUPLICATE_NAME",
                f"Application command names must be unique: {name}",
            )
        seen.add((ctype, name))
        if ctype == 1:
            _check_name(name, errs, (i, "name"))
            errs.length_between((i, "description"), cmd.get("description"), 1, 100)
            _check_options(cmd.get("options") or [], errs, (i, "options"), depth=0)
        else:
            errs.length_between((i, "name"), name, 1, 32)
    if chat > 100:
        errs.add((), "BASE_TYPE_MAX_LENGTH", "Must be 100 or fewer chat input commands.")


def _check_name(name: Any, errs: FormErrors, path: Path) -> None:
    if not isinstance(name, str) or not COMMAND_NAME_RE.match(name) or name != name.lower():
        errs.add(path, "APPLICATION_COMMAND_INVALID_NAME", f"Command name is invalid: {name!r}")


def _check_options(options: list[dict[str, Any]], errs: FormErrors, path: Path, depth: int) -> None:
    if len(options) > 25:
        errs.add(path, "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
    names: set[Any] = set()
    kinds = {int(o.get("type") or 0) in (1, 2) for o in options}
    if len(kinds) > 1:
        errs.add(
            path,
            "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID",
            "Sub-command and sub-command group option types are mutually exclusive to all "
            "other types",
        )
    optional_seen = False
    for i, opt in enumerate(options):
        p = (*path, i)
        otype = int(opt.get("type") or 0)
        _check_name(opt.get("name"), errs, (*p, "name"))
        errs.length_between((*p, "description"), opt.get("description"), 1, 100)
        if opt.get("name") in names:
            errs.add(
                (*p, "name"),
                "APPLICATION_COMMAND_OPTION_NAME_ALREADY_EXISTS",
                "Option names must be unique",
            )
        names.add(opt.get("name"))
        if otype in (1, 2):
            if (otype == 2 and depth > 0) or (otype == 1 and depth > 1):
                errs.add(
                    (*p, "type"),
                    "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID",
                    "Sub-commands nested too deep",
                )
            sub = opt.get("options") or []
            if otype == 2 and any(int(s.get("type") or 0) != 1 for s in sub):
                errs.add(
                    (*p, "options"),
                    "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID",
                    "A sub-command group can only contain sub-commands",
                )
            _check_options(sub, errs, (*p, "options"), depth + 1)
            continue
        if opt.get("required"):
            if optional_seen:
                errs.add(
                    (*p, "required"),
                    "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                    "Required options must be placed before non-required options",
                )
        else:
            optional_seen = True
        choices = opt.get("choices") or []
        if len(choices) > 25:
            errs.add((*p, "choices"), "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
        if choices and opt.get("autocomplete"):
            errs.add(
                (*p, "autocomplete"),
                "APPLICATION_COMMAND_OPTION_AUTOCOMPLETE_AND_CHOICES",
                "Autocomplete cannot be set with choices",
            )
        for j, choice in enumerate(choices):
            errs.length_between((*p, "choices", j, "name"), choice.get("name"), 1, 100)
            if isinstance(choice.get("value"), str):
                errs.max_len((*p, "choices", j, "value"), choice.get("value"), 100)
