"""Append proxied requests to the traffic log (traffic-log-v1 JSON lines), one file per UTC day.

Files are named ``requests-YYYY-MM-DD.jsonl`` so that ``distillguard scan LOG_DIR`` finds them (the
feedback loop). Each record is written and flushed as one line under a lock, so a crash loses at
most the line being written, and concurrent requests never interleave.
"""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path
from typing import IO, Any

import orjson

from distillguard.io.schema import format_ts

PARAM_TYPES: dict[str, tuple[type, ...]] = {
    "temperature": (int, float),
    "top_p": (int, float),
    "max_tokens": (int,),
    "n": (int,),
    "stream": (bool,),
    "logprobs": (bool,),
    "top_logprobs": (int,),
    "reasoning_effort": (str,),
}


def params_of(body: dict[str, Any]) -> dict[str, Any]:
    """The request options the traffic log keeps, with the types the spec demands."""
    out: dict[str, Any] = {}
    for name, types in PARAM_TYPES.items():
        v = body.get(name)
        if v is None and name == "max_tokens":
            v = body.get("max_completion_tokens")
        if isinstance(v, types) and not (isinstance(v, bool) and bool not in types):
            out[name] = float(v) if name in ("temperature", "top_p") else v
    if isinstance(body.get("tools"), list):
        out["tools"] = len(body["tools"])
    return out


def usage_of(usage: dict[str, Any] | None) -> dict[str, int] | None:
    """OpenAI usage as the log's ``{input_tokens, output_tokens, reasoning_tokens}``."""
    if not isinstance(usage, dict):
        return None
    out = {}
    for src, dst in (("prompt_tokens", "input_tokens"), ("completion_tokens", "output_tokens")):
        if isinstance(usage.get(src), int):
            out[dst] = usage[src]
    details = usage.get("completion_tokens_details") or {}
    if isinstance(details, dict) and isinstance(details.get("reasoning_tokens"), int):
        out["reasoning_tokens"] = details["reasoning_tokens"]
    return out or None


class TrafficRecorder:
    """Thread-safe appender of request records to daily JSON lines files."""

    def __init__(self, log_dir: str | Path) -> None:
        self.dir = Path(log_dir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._day: str | None = None
        self._file: IO[bytes] | None = None
        self.records = 0

    def path_for(self, when: dt.datetime) -> Path:
        """The file that records of this UTC day go to."""
        return self.dir / f"requests-{when.astimezone(dt.UTC):%Y-%m-%d}.jsonl"

    def write(self, record: dict[str, Any]) -> None:
        """Append one record (``ts`` a UTC datetime; None values are dropped)."""
        ts: dt.datetime = record["ts"]
        line = orjson.dumps(
            {k: (format_ts(v) if k == "ts" else v) for k, v in record.items() if v is not None}
        )
        day = f"{ts.astimezone(dt.UTC):%Y-%m-%d}"
        with self._lock:
            if day != self._day or self._file is None:
                if self._file is not None:
                    self._file.close()
                self._file = self.path_for(ts).open("ab")
                self._day = day
            self._file.write(line + b"\n")
            self._file.flush()
            self.records += 1

    def close(self) -> None:
        """Close the current file."""
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None
