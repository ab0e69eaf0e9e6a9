"""Text views of a request that every kernel shares, so batch and online paths see the same strings.

Cost: pure Python string work, a few microseconds per request; texts are capped at ``MAX_CHARS``
so a pathological multi-megabyte prompt cannot stall a batch.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

MAX_CHARS = 4000

_WS = re.compile(r"\s+")
_URL = re.compile(r"https?://\S+|www\.\S+")
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+\.[\w.-]+\b")
_NUM = re.compile(r"[-+]?\d[\d,]*(?:\.\d+)?%?")
# Quoted spans: straight and typographic double quotes, backticks, and single quotes around 2+ chars.
_QUOTED = re.compile(r"\"[^\"\n]{1,200}\"|“[^”\n]{1,200}”|`[^`\n]{1,200}`|'[^'\n]{2,200}'")
# A capitalised word that does not start a sentence: a crude but language-agnostic name detector.
_NAME = re.compile(r"(?<=[a-z,;:] )[A-Z][a-z]{2,}(?: [A-Z][a-z]{2,})*")

Message = dict[str, Any]


def system_text(messages: Sequence[Message] | None) -> str:
    """All system messages of a request, joined."""
    if not messages:
        return ""
    return "\n".join(m.get("content") or "" for m in messages if m.get("role") == "system")[:MAX_CHARS]


def last_user_text(messages: Sequence[Message] | None) -> str:
    """The newest user turn: what this request actually asks."""
    if not messages:
        return ""
    for m in reversed(messages):
        if m.get("role") == "user":
            return (m.get("content") or "")[:MAX_CHARS]
    return ""


def prompt_text(messages: Sequence[Message] | None) -> str:
    """System prompt plus newest user turn: the text an intent classifier reads."""
    system, user = system_text(messages), last_user_text(messages)
    return f"{system}\n{user}" if system else user


def normalise(text: str) -> str:
    """Lower-case text with URLs, e-mails, quoted spans, names and numbers replaced by placeholders.

    Two requests built from one template with different slot values normalise to nearly the same
    string, which is what template fingerprints compare.
    """
    text = _URL.sub(" <url> ", text)
    text = _EMAIL.sub(" <email> ", text)
    text = _QUOTED.sub(" <q> ", text)
    text = _NAME.sub(" <name> ", text)
    text = _NUM.sub(" <num> ", text)
    return _WS.sub(" ", text).strip().lower()
