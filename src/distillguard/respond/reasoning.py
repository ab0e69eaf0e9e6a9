"""Withholding or summarising a model's reasoning in chat-completion replies, whole or streamed.

Providers return reasoning as ``message.reasoning_content`` (DeepSeek, vLLM, LiteLLM) or
``message.reasoning`` (OpenRouter, Ollama); streamed replies carry it in ``delta`` under the same
names. *Withhold* removes it; *summarise* replies with a short extractive summary instead: the first
and last sentence and how much was left out (no model call, so it adds no latency or cost).
"""

from __future__ import annotations

import re
from typing import Any

REASONING_FIELDS = ("reasoning_content", "reasoning")
_SENTENCE = re.compile(r"(?<=[.!?。])\s+")
SUMMARY_CHARS = 240


def summarise(text: str) -> str:
    """A short extractive summary of reasoning text: first and last sentence, and the words left out."""
    sentences = [s.strip() for s in _SENTENCE.split(text.strip()) if s.strip()]
    if not sentences:
        return ""
    words = len(text.split())
    if len(sentences) == 1:
        picked = sentences[0][:SUMMARY_CHARS]
    else:
        picked = f"{sentences[0][: SUMMARY_CHARS // 2]} … {sentences[-1][: SUMMARY_CHARS // 2]}"
    return f"[summary of {words} words of reasoning] {picked}"


def reasoning_of(message: dict[str, Any]) -> str | None:
    """The reasoning text a message or delta carries, if any."""
    for f in REASONING_FIELDS:
        v = message.get(f)
        if isinstance(v, str):
            return v
    return None


def shape_message(message: dict[str, Any], mode: str) -> None:
    """Withhold or summarise the reasoning of a whole (non-streamed) message, in place."""
    if mode == "full":
        return
    for f in REASONING_FIELDS:
        v = message.get(f)
        if isinstance(v, str):
            if mode == "withhold":
                del message[f]
            else:
                message[f] = summarise(v)


class StreamShaper:
    """Shapes the reasoning of a streamed reply chunk by chunk, and collects what the log records.

    For *summarise*, reasoning deltas are held back and the summary is sent as one reasoning delta
    just before the first content delta (or with the finishing chunk).
    """

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.content: list[str] = []
        self.reasoning: list[str] = []
        self.finish_reason: str | None = None
        self.usage: dict[str, Any] | None = None
        self.id: str | None = None
        self._held = False  # some reasoning is held back for the summary
        self._summary_sent = False

    def _release(self, delta: dict[str, Any], field: str) -> None:
        if self._held and not self._summary_sent:
            delta[field] = summarise("".join(self.reasoning))
            self._summary_sent = True

    def chunk(self, obj: dict[str, Any]) -> dict[str, Any] | None:
        """The chunk to send on (changed in place), or None to drop it."""
        self.id = self.id or obj.get("id")
        if isinstance(obj.get("usage"), dict):
            self.usage = obj["usage"]
        emptied = False
        for choice in obj.get("choices") or []:
            if choice.get("finish_reason"):
                self.finish_reason = choice["finish_reason"]
            delta = choice.get("delta")
            if not isinstance(delta, dict):
                # Attached, so that a summary released on the finishing chunk reaches the client.
                delta = choice["delta"] = {}
            if isinstance(delta.get("content"), str):
                self.content.append(delta["content"])
            field = next((f for f in REASONING_FIELDS if isinstance(delta.get(f), str)), None)
            if field is not None:
                self.reasoning.append(delta[field])
                if self.mode != "full":
                    del delta[field]
                    self._held = self.mode == "summarise"
                    emptied = True
            if self.mode == "summarise" and (
                delta.get("content") or delta.get("tool_calls") or choice.get("finish_reason")
            ):
                self._release(delta, field or "reasoning_content")
        if emptied and not obj.get("usage") and all(_empty(c) for c in obj.get("choices") or []):
            # A chunk that only carried reasoning now carries nothing: drop it rather than send noise.
            return None
        return obj


def _empty(choice: dict[str, Any]) -> bool:
    """A streamed choice with nothing left to say."""
    delta = choice.get("delta") or {}
    return not choice.get("finish_reason") and all(v in (None, "") for v in delta.values())
