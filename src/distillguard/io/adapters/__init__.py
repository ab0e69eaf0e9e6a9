"""Adapters that turn what API gateways already log into traffic-log-v1 request records.

Each adapter takes ONE parsed JSON document (one line of a JSONL input, or a whole-file JSON
object) and yields request dicts in their JSON form, as one line of a traffic-log-v1
``requests`` JSONL file would hold them. A document that cannot be mapped raises
:class:`AdapterError` naming the offending field of the *source* document; no other exception
type escapes an adapter registered in :data:`ADAPTERS`.

Adapters are atomic per document: the whole document is converted before the first record is
yielded, so a caller that catches ``AdapterError`` never sees half of a bad document.

See ``docs/adapters.md`` for the field mappings and the source versions followed.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Callable, Iterator
from typing import Any

from distillguard.io.records import json_type as type_name
from distillguard.io.schema import format_ts

__all__ = ["ADAPTERS", "Adapter", "AdapterError"]

Adapter = Callable[[Any], Iterator[dict[str, Any]]]

# Guards recursive walks over untrusted nested content (tool results inside tool results, ...).
MAX_DEPTH = 32

# The spec's integer columns are int64 in Arrow.
_INT64_LIMIT = 2**63

# Placeholders for non-text content parts: detectors see that an image was sent without the blob.
_MEDIA_PLACEHOLDERS = {
    "image": "[image]",
    "image_url": "[image]",
    "input_image": "[image]",
    "audio": "[audio]",
    "input_audio": "[audio]",
    "video": "[video]",
    "file": "[file]",
    "input_file": "[file]",
    "document": "[document]",
}


class AdapterError(ValueError):
    """A source document that an adapter cannot map; ``field`` is a dotted path into the source."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field or '<document>'}: {reason}")
        self.field = field
        self.reason = reason


def join(path: str, key: str | int) -> str:
    """Extend a dotted source path by a key (``a.b``) or a list index (``a[0]``)."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def expect_object(value: Any, path: str) -> dict[str, Any]:
    """Return ``value`` if it is a JSON object, else raise AdapterError at ``path``."""
    if not isinstance(value, dict):
        raise AdapterError(path, f"expected an object, got {type_name(value)}")
    return value


def expect_list(value: Any, path: str) -> list[Any]:
    """Return ``value`` if it is a JSON array, else raise AdapterError at ``path``."""
    if not isinstance(value, list):
        raise AdapterError(path, f"expected an array, got {type_name(value)}")
    return value


def opt_str(value: Any, path: str) -> str | None:
    """Return a non-empty string, None for null/absent/empty, or raise for another type."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise AdapterError(path, f"expected a string, got {type_name(value)}")
    return value or None


def opt_int(value: Any, path: str, *, minimum: int | None = 0) -> int | None:
    """Return an integer (also from an integral float or a decimal string), None if absent."""
    if value is None:
        return None
    result: int | None = None
    if isinstance(value, bool):
        result = None
    elif isinstance(value, int):
        result = value
    elif isinstance(value, float) and value.is_integer():
        result = int(value)
    elif isinstance(value, str) and value.strip().lstrip("+-").isdigit():
        # OTLP/JSON writes 64-bit integers as strings; some gateways do the same elsewhere.
        result = int(value.strip())
    if result is None:
        raise AdapterError(path, f"expected an integer, got {type_name(value)} {_short(value)}")
    if minimum is not None and result < minimum:
        raise AdapterError(path, f"expected an integer >= {minimum}, got {result}")
    if not -_INT64_LIMIT <= result < _INT64_LIMIT:
        raise AdapterError(path, f"integer {result} does not fit in 64 bits")
    return result


def opt_float(value: Any, path: str) -> float | None:
    """Return a finite number as float, None if absent, or raise for another type."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise AdapterError(path, f"expected a number, got {type_name(value)}")
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise AdapterError(path, f"expected a number, got string {_short(value)}") from None
    result = float(value)
    if not math.isfinite(result):
        raise AdapterError(path, f"expected a finite number, got {result}")
    return result


def opt_bool(value: Any, path: str) -> bool | None:
    """Return a boolean, None if absent, or raise for another type."""
    if value is None:
        return None
    if not isinstance(value, bool):
        raise AdapterError(path, f"expected a boolean, got {type_name(value)}")
    return value


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def ts_from_epoch_us(micros: int, path: str) -> str:
    """Format microseconds since the Unix epoch as the spec's RFC 3339 UTC text."""
    try:
        moment = _EPOCH + dt.timedelta(microseconds=micros)
    except OverflowError:
        raise AdapterError(path, f"timestamp {micros} us since the epoch is out of range") from None
    if not 1 <= moment.year <= 9999:
        raise AdapterError(path, "timestamp is out of range")
    return format_ts(moment)


def compact_json(value: Any) -> str:
    """Serialize structured content (tool calls, tool results) as compact JSON text."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


def part_text(part: Any, path: str, depth: int = 0) -> str | None:
    """Text of one content part of any of the OpenAI/Anthropic/Responses part shapes.

    Returns None for parts that carry no prompt text (thinking blocks, unknown empties).
    """
    if depth > MAX_DEPTH:
        raise AdapterError(path, "content is nested too deeply")
    if isinstance(part, str):
        return part
    if not isinstance(part, dict):
        raise AdapterError(path, f"expected a content part object or string, got {type_name(part)}")
    kind = part.get("type")
    if kind is not None and not isinstance(kind, str):
        raise AdapterError(join(path, "type"), f"expected a string, got {type_name(kind)}")
    if kind in (None, "text", "input_text", "output_text", "summary_text"):
        text = part.get("text", part.get("content"))
        if isinstance(text, str):
            return text
        if kind is None:
            raise AdapterError(join(path, "type"), "content part has neither 'type' nor 'text'")
        raise AdapterError(join(path, "text"), f"expected a string, got {type_name(text)}")
    if kind == "refusal":
        return opt_str(part.get("refusal"), join(path, "refusal")) or ""
    if kind in _MEDIA_PLACEHOLDERS:
        return _MEDIA_PLACEHOLDERS[kind]
    if kind in ("thinking", "redacted_thinking", "reasoning"):
        # Earlier turns' thinking is the model's, not the prompt's; the response keeps its own.
        return None
    if kind == "tool_use":
        return compact_json({"tool_use": {"name": part.get("name"), "input": part.get("input")}})
    if kind == "tool_result":
        inner = part.get("content")
        if inner is None or isinstance(inner, str):
            return inner or ""
        return content_text(inner, join(path, "content"), depth + 1)
    return f"[{kind}]"


def content_text(content: Any, path: str, depth: int = 0) -> str:
    """Flatten message content (a string, one part, or a list of parts) into one string.

    Text parts are joined with newlines; media parts become placeholders such as ``[image]``.
    """
    if depth > MAX_DEPTH:
        raise AdapterError(path, "content is nested too deeply")
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, dict):
        return part_text(content, path, depth + 1) or ""
    if isinstance(content, list):
        texts = [part_text(part, join(path, i), depth + 1) for i, part in enumerate(content)]
        return "\n".join(t for t in texts if t is not None)
    raise AdapterError(path, f"expected a string or a list of content parts, got {type_name(content)}")


# Source roles that the spec's four roles stand for.
ROLE_ALIASES = {
    "system": "system",
    "developer": "system",
    "user": "user",
    "human": "user",
    "assistant": "assistant",
    "model": "assistant",
    "ai": "assistant",
    "tool": "tool",
    "function": "tool",
    "ipython": "tool",
}


def spec_role(role: Any, path: str) -> str:
    """Map a source message role onto system/user/assistant/tool, or raise."""
    if not isinstance(role, str):
        raise AdapterError(path, f"expected a role string, got {type_name(role)}")
    mapped = ROLE_ALIASES.get(role.lower())
    if mapped is None:
        raise AdapterError(path, f"unknown role {_short(role)}; expected one of {', '.join(ROLE_ALIASES)}")
    return mapped


def drop_none(obj: dict[str, Any]) -> dict[str, Any]:
    """Return ``obj`` without null values, matching how the writers emit JSON rows."""
    return {k: v for k, v in obj.items() if v is not None}


def _short(value: Any, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def guarded(name: str, convert: Callable[[Any], list[dict[str, Any]]]) -> Adapter:
    """Wrap a converter so that only AdapterError escapes, even through a bug in the converter."""

    def adapter(doc: Any) -> Iterator[dict[str, Any]]:
        try:
            records = convert(doc)
        except AdapterError:
            raise
        except (RecursionError, MemoryError):
            raise AdapterError("", "document is too deeply nested or too large") from None
        except Exception as exc:  # noqa: BLE001 - a bug must not abort a whole conversion run
            raise AdapterError("", f"unexpected {type(exc).__name__} in the {name} adapter: {exc}") from exc
        yield from records

    adapter.__name__ = f"{name}_adapter"
    adapter.__doc__ = convert.__doc__
    return adapter


# The submodules import the helpers above, so they can only be imported once those exist.
from distillguard.io.adapters import litellm, otel  # noqa: E402

ADAPTERS: dict[str, Adapter] = {
    "litellm": guarded("litellm", litellm.convert),
    "otel": guarded("otel", otel.convert),
}
