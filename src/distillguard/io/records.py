"""Validate spec JSON records (traffic-log-v1) and turn them into Arrow batches of their kind.

A record is one parsed JSON object, as found on one line of a JSONL file. :class:`RecordBuilder`
checks it against the rules of its kind (derived from the Arrow schemas in ``io.schema``), converts
it to column values and, once per batch, builds a :class:`pyarrow.RecordBatch`. A record that breaks
a rule raises :class:`RecordError` naming the offending field as a dotted path
(``messages[2].role``) and a human reason; the builder is left unchanged, so the caller can report
the record and go on with the next.

The conversion is plain Python on dicts and lists with one Arrow call per batch, because it runs
once for each of millions of records.

Round trip: for a valid record, ``batch_to_json_rows(builder.build())`` gives back the input, except
that ``null`` and an absent key are the same, timestamps come back as UTC text and integers given
for a float field come back as floats. Keys the spec does not name are kept in the ``extra`` column:
top-level ones as they are, unknown keys of ``params``/``response``/``usage`` under
``extra[<object name>]``.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import orjson
import pyarrow as pa

from distillguard.io.schema import LABELS, ROLES, TIERS, schema_for

__all__ = [
    "RecordBuilder",
    "RecordError",
    "json_type",
    "parse_timestamp",
    "records_to_batch",
]

_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1

# RFC 3339 date-time: the `T` and `Z` may be lower case (section 5.6); ASCII digits only, because
# `\d` would also match other scripts' digits. A fraction longer than microseconds is truncated.
_TS_RE = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt]([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]+))?"
    r"(?:([Zz])|([+-])([0-9]{2}):([0-9]{2}))"
)
_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()
# Years below 1000 would not print back as four digits, so such a time could not round-trip.
_MIN_YEAR, _MAX_YEAR = 1000, 9999
_MIN_TS_US = (dt.date(_MIN_YEAR, 1, 1).toordinal() - _EPOCH_ORDINAL) * 86_400_000_000
_MAX_TS_US = (dt.date(_MAX_YEAR, 12, 31).toordinal() - _EPOCH_ORDINAL + 1) * 86_400_000_000 - 1

_CHOICES: dict[str, tuple[str, ...]] = {"role": ROLES, "tier": TIERS, "label": LABELS}


class RecordError(ValueError):
    """A record that breaks the traffic-log-v1 rules: which field (dotted path) and why."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}" if field else reason)
        self.field = field
        self.reason = reason

    def __reduce__(self) -> tuple[Any, ...]:
        return (RecordError, (self.field, self.reason))


def json_type(value: Any) -> str:
    """Name the JSON type of a parsed value, as a user would say it."""
    if value is None:
        return "null"
    if value is True or value is False:
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _got(value: Any) -> str:
    kind = json_type(value)
    if kind in ("null", "array", "object"):
        return kind
    if kind == "boolean":
        return f"boolean {'true' if value else 'false'}"
    if kind == "string":
        return f"string {_short(value)!r}"
    return f"{kind} {value!r}"


def _short(text: str) -> str:
    return text if len(text) <= 40 else text[:37] + "..."


def _choice_text(choices: tuple[str, ...]) -> str:
    return ", ".join(choices[:-1]) + " or " + choices[-1]


def parse_timestamp(value: Any, field: str = "ts") -> int:
    """Parse an RFC 3339 timestamp with ``Z`` or an offset; return UTC microseconds since the epoch."""
    if type(value) is not str:
        raise RecordError(field, f"expected an RFC 3339 timestamp string, got {_got(value)}")
    m = _TS_RE.fullmatch(value)
    if m is None:
        raise RecordError(field, f"not an RFC 3339 timestamp with a time zone: {value!r}")
    year, month, day, hour, minute, second, frac, _z, sign, off_h, off_m = m.groups()
    try:
        ordinal = dt.date(int(year), int(month), int(day)).toordinal()
    except ValueError:
        raise RecordError(field, f"not a valid calendar date: {value!r}") from None
    hour_i, minute_i, second_i = int(hour), int(minute), int(second)
    if hour_i > 23 or minute_i > 59 or second_i > 59:
        raise RecordError(field, f"not a valid time of day: {value!r}")
    seconds = (ordinal - _EPOCH_ORDINAL) * 86_400 + hour_i * 3600 + minute_i * 60 + second_i
    if sign is not None:
        off_h_i, off_m_i = int(off_h), int(off_m)
        if off_h_i > 23 or off_m_i > 59:
            raise RecordError(field, f"not a valid time zone offset: {value!r}")
        offset = off_h_i * 3600 + off_m_i * 60
        seconds = seconds - offset if sign == "+" else seconds + offset
    micros = seconds * 1_000_000 + (int(frac[:6].ljust(6, "0")) if frac else 0)
    if not _MIN_TS_US <= micros <= _MAX_TS_US:
        raise RecordError(field, f"timestamp outside the years {_MIN_YEAR} to {_MAX_YEAR} (UTC): {value!r}")
    return micros


# ---- converters: (value, field path) -> column value, raising RecordError --------------------------

Converter = Callable[[Any, str], Any]


def _str(value: Any, field: str) -> str:
    if type(value) is not str:
        raise RecordError(field, f"expected a string, got {_got(value)}")
    if not value.isascii():  # O(1) in CPython; only non-ASCII text can hold a lone surrogate
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise RecordError(field, "string is not valid Unicode (lone surrogate)") from None
    return value


def _int(value: Any, field: str) -> int:
    # type() rather than isinstance: bool is an int subclass, and true is not a token count.
    if type(value) is not int:
        raise RecordError(field, f"expected an integer, got {_got(value)}")
    if not _INT64_MIN <= value <= _INT64_MAX:
        raise RecordError(field, f"integer out of the 64-bit range: {value}")
    return value


def _float(value: Any, field: str) -> float:
    kind = type(value)
    if kind is float:
        if not math.isfinite(value):
            raise RecordError(field, f"expected a finite number, got {value!r}")
        return value
    if kind is int:
        try:
            return float(value)
        except OverflowError:
            raise RecordError(field, f"number out of range: {value}") from None
    raise RecordError(field, f"expected a number, got {_got(value)}")


def _bool(value: Any, field: str) -> bool:
    if value is not True and value is not False:
        raise RecordError(field, f"expected a boolean, got {_got(value)}")
    return value


def _choice(choices: tuple[str, ...]) -> Converter:
    allowed = frozenset(choices)
    expected = _choice_text(choices)

    def convert(value: Any, field: str) -> str:
        if type(value) is not str:
            raise RecordError(field, f"expected a string, got {_got(value)}")
        if value not in allowed:
            name = field.rsplit(".", 1)[-1]
            raise RecordError(field, f"unknown {name} {_short(value)!r}; expected {expected}")
        return value

    return convert


def _string_list(value: Any, field: str) -> list[str]:
    if type(value) is not list:
        raise RecordError(field, f"expected an array of strings, got {_got(value)}")
    for i, item in enumerate(value):
        _str(item, f"{field}[{i}]")
    return value


_role = _choice(ROLES)


def _messages(value: Any, field: str) -> list[dict[str, str]]:
    if type(value) is not list:
        raise RecordError(field, f"expected an array of messages, got {_got(value)}")
    for i, msg in enumerate(value):
        if type(msg) is not dict:
            raise RecordError(
                f"{field}[{i}]", f"expected a message object with role and content, got {_got(msg)}"
            )
        if len(msg) != 2:
            for key in msg:
                if key not in ("role", "content"):
                    # No column can hold it and dropping it would break the round trip.
                    raise RecordError(
                        f"{field}[{i}].{key}", "unknown message field; a message has only role and content"
                    )
        role = msg.get("role")
        if role is None:
            raise RecordError(f"{field}[{i}].role", _missing("role", msg))
        _role(role, f"{field}[{i}].role")
        content = msg.get("content")
        if content is None:
            raise RecordError(f"{field}[{i}].content", _missing("content", msg))
        _str(content, f"{field}[{i}].content")
    return value


def _missing(name: str, obj: Mapping[str, Any]) -> str:
    return "required field is null" if name in obj else "required field is missing"


def _converter_for(name: str, dtype: pa.DataType) -> Converter:
    if name in _CHOICES:
        return _choice(_CHOICES[name])
    if pa.types.is_timestamp(dtype):
        return parse_timestamp
    if pa.types.is_string(dtype):
        return _str
    if pa.types.is_integer(dtype):
        return _int
    if pa.types.is_floating(dtype):
        return _float
    if pa.types.is_boolean(dtype):
        return _bool
    if pa.types.is_list(dtype):
        return _messages if pa.types.is_struct(dtype.value_type) else _string_list
    raise TypeError(f"no converter for field {name!r} of type {dtype}")  # a schema change without a rule


class _Nested:
    """Converter of a known object (params, response, usage): known keys typed, the rest kept aside."""

    __slots__ = ("name", "fields")

    def __init__(self, name: str, struct: pa.StructType) -> None:
        self.name = name
        self.fields: dict[str, tuple[str, Converter]] = {
            f.name: (f"{name}.{f.name}", _converter_for(f.name, f.type)) for f in struct
        }

    def convert(self, value: Any) -> tuple[dict[str, Any], dict[str, Any] | None]:
        """Return the struct value and the unknown keys (or None)."""
        if type(value) is not dict:
            raise RecordError(self.name, f"expected an object, got {_got(value)}")
        out: dict[str, Any] = {}
        unknown: dict[str, Any] | None = None
        fields = self.fields
        for key, item in value.items():
            spec = fields.get(key)
            if spec is None:
                if unknown is None:
                    unknown = {}
                unknown[key] = item
            elif item is not None:
                out[key] = spec[1](item, spec[0])
        return out, unknown


class RecordBuilder:
    """Validate records of one kind and collect them column by column into Arrow batches."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.schema = schema_for(kind)
        self._converters: dict[str, Converter] = {}
        self._nested: dict[str, _Nested] = {}
        for field in self.schema:
            if field.name == "extra":
                continue
            if pa.types.is_struct(field.type):
                self._nested[field.name] = _Nested(field.name, field.type)
            else:
                self._converters[field.name] = _converter_for(field.name, field.type)
        self._required = tuple(f.name for f in self.schema if not f.nullable)
        self._required_set = frozenset(self._required)
        self._names = tuple(f.name for f in self.schema)
        self._columns: dict[str, list[Any]] = {name: [] for name in self._names}

    def __len__(self) -> int:
        return len(self._columns[self._names[0]])

    def parse(self, obj: Any) -> dict[str, Any]:
        """Validate one record and return its column values; raise RecordError if it breaks a rule."""
        if type(obj) is not dict:
            raise RecordError("", f"expected a JSON object, got {_got(obj)}")
        row: dict[str, Any] = {}
        extra: dict[str, Any] | None = None
        converters = self._converters
        nested_objects = self._nested
        for key, value in obj.items():
            conv = converters.get(key)
            if conv is not None:
                if value is not None:
                    row[key] = conv(value, key)
                continue
            nested = nested_objects.get(key)
            if nested is not None:
                if value is not None:
                    row[key], unknown = nested.convert(value)
                    if unknown is not None:
                        if extra is None:
                            extra = {}
                        extra[key] = unknown
                continue
            if extra is None:
                extra = {}
            extra[key] = value
        if not self._required_set <= row.keys():
            for name in self._required:
                if name not in row:
                    raise RecordError(name, _missing(name, obj))
        if extra is not None:
            row["extra"] = _extra_text(extra)
        return row

    def append(self, row: Mapping[str, Any]) -> None:
        """Append column values returned by :meth:`parse`."""
        get = row.get
        for name, column in self._columns.items():
            column.append(get(name))

    def add(self, obj: Any) -> None:
        """Validate one record and append it; on RecordError nothing is appended."""
        self.append(self.parse(obj))

    def build(self) -> pa.RecordBatch:
        """Return the collected records as one batch in the kind's schema, and start afresh."""
        columns = self._columns
        self._columns = {name: [] for name in self._names}
        return pa.RecordBatch.from_pydict(columns, schema=self.schema)


def _extra_text(extra: dict[str, Any]) -> str:
    try:
        return orjson.dumps(extra).decode()
    except (orjson.JSONEncodeError, TypeError):
        # Only reachable for Python input, never for parsed JSON; find the key to blame.
        for key, value in extra.items():
            try:
                orjson.dumps(value)
            except (orjson.JSONEncodeError, TypeError) as exc:
                raise RecordError(key, f"value cannot be stored as JSON: {exc}") from None
        raise RecordError("", "record cannot be stored as JSON") from None


def records_to_batch(records: Iterable[Any], kind: str) -> pa.RecordBatch:
    """Validate records of one kind and return them as one batch; raise RecordError on the first bad one.

    The error's field is prefixed with the record's index, e.g. ``[3].messages[0].role``.
    """
    builder = RecordBuilder(kind)
    for index, record in enumerate(records):
        try:
            builder.add(record)
        except RecordError as exc:
            field = f"[{index}].{exc.field}" if exc.field else f"[{index}]"
            raise RecordError(field, exc.reason) from None
    return builder.build()
