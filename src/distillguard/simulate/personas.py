"""Benign personas: the legitimate traffic a detector must leave alone.

Each persona is a ``Source`` whose docstring says what real customers it stands for and on which
axis it looks like distillation (the hard negatives): heavy volume, 24/7 duty cycle, step-by-step
reasoning requests, one template over thousands of inputs, shared corporate cards and NAT
addresses, sign-up bursts from one campus, synthetic-data generation, and early adoption of a
newly released model.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from distillguard.simulate.corpora import Conversation
from distillguard.simulate.population import (
    Account,
    Request,
    Source,
    burst_times,
    pick,
    session_times,
)
from distillguard.simulate.world import (
    APP_AGENTS,
    BENIGN_COUNTRIES,
    DAY,
    FREE_MAIL,
    GLOBAL_DIURNAL,
    HOUR,
    HUMAN_DIURNAL,
    IDE_AGENTS,
    SDK_AGENTS,
    WORK_DIURNAL,
    diurnal_times,
)

_COUNTRIES = tuple(BENIGN_COUNTRIES)
_COUNTRY_W = tuple(BENIGN_COUNTRIES.values())

# Users who ask for answers in their own language: a benign look-alike of reasoning-language coercion.
_ANSWER_IN = {
    "CN": "请用中文回答：",
    "HK": "請用中文回答：",
    "JP": "日本語で答えてください。",
    "KR": "한국어로 답해 주세요.",
    "RU": "Ответь, пожалуйста, по-русски.",
    "BR": "Responda em português, por favor.",
    "MX": "Responde en español, por favor.",
    "DE": "Bitte antworte auf Deutsch.",
    "FR": "Réponds en français, s'il te plaît.",
    "VN": "Vui lòng trả lời bằng tiếng Việt.",
    "ID": "Tolong jawab dalam bahasa Indonesia.",
    "TR": "Lütfen Türkçe cevap ver.",
}


class ChatMixin(Source):
    """Multi-turn chat built from real ShareGPT conversations, continued while a session lasts."""

    SESSION_GAP = 25 * 60.0

    def chat_turn(
        self, ts: float, acct: Account, system: str | None = None, history: int = 3
    ) -> tuple[list[dict[str, str]], str]:
        """Next (messages, reply) of the account's current conversation, starting a new one if idle."""
        st = acct.state
        conv: Conversation | None = st.get("conv")
        if conv is None or ts - st.get("last", 0.0) > self.SESSION_GAP or st["turn"] >= len(conv.turns):
            conv = self.corpora.chats[self.rand.randrange(len(self.corpora.chats))]
            st["conv"], st["turn"] = conv, 0
        turn = st["turn"]
        st["turn"], st["last"] = turn + 1, ts
        messages: list[dict[str, str]] = []
        if system:
            messages.append({"role": "system", "content": system})
        for u, a in conv.turns[max(0, turn - history) : turn]:
            messages.append({"role": "user", "content": u})
            messages.append({"role": "assistant", "content": a})
        user, reply = conv.turns[turn]
        prefix = st.get("answer_in")
        if prefix and turn == 0:
            user = f"{prefix}\n{user}"
        messages.append({"role": "user", "content": user})
        return messages, reply

    def single_turn(
        self, corpus: str, template: str = "{p}", system: str | None = None
    ) -> tuple[list[dict[str, str]], str]:
        """One-shot (messages, reply) wrapping a real prompt from a corpus."""
        p = pick(self.rand, self.corpora.pool(corpus))
        messages = [{"role": "system", "content": system}] if system else []
        messages.append({"role": "user", "content": template.format(p=p.text)})
        return messages, p.reference or _fallback_reply(p.text)


_REWORDINGS = (
    ("Summarize", ("Summarize", "Summarise", "Write a short summary of", "Condense")),
    ("the following", ("the following", "the below", "this", "the attached")),
    ("Classify", ("Classify", "Categorize", "Label", "Assign a category to")),
    ("Translate", ("Translate", "Render", "Convert")),
    (
        "Preserve formatting.",
        ("Preserve formatting.", "Keep the original formatting.", "Do not change markup.", ""),
    ),
    ("Answer", ("Answer", "Respond to", "Reply to")),
    ("politely and concisely", ("politely and concisely", "briefly and kindly", "in a friendly, short way")),
    ("step by step", ("step by step", "step-by-step", "one step at a time", "in clear steps")),
    ("Extract", ("Extract", "Pull out", "Find", "List")),
    ("Generate", ("Generate", "Write", "Create", "Produce")),
    ("explain", ("explain", "describe", "spell out")),
)
_ORG_PREFIX = ("", "Task: ", "INSTRUCTIONS: ", "[{org}] ", "As the {org} assistant, ", "{org} job. ")
_ORG_SUFFIX = (
    "",
    " Be accurate.",
    " Use British English.",
    " Output plain text only.",
    " Keep it short.",
    " Do not add commentary.",
)
_ORG_WORDS = (
    "acme",
    "globex",
    "initech",
    "umbrella",
    "hooli",
    "vandelay",
    "stark",
    "wayne",
    "tyrell",
    "cyberdyne",
    "soylent",
    "wonka",
    "gringotts",
    "oscorp",
    "pied",
    "monarch",
    "aperture",
    "nakatomi",
)


def org_wording(rand: Any, text: str) -> str:
    """One organisation's own wording of a common instruction: no two companies write it alike."""
    for word, options in _REWORDINGS:
        if word in text:
            text = text.replace(word, rand.choice(options))
    org = f"{rand.choice(_ORG_WORDS)}-{rand.randrange(100, 999)}"
    return rand.choice(_ORG_PREFIX).format(org=org) + text + rand.choice(_ORG_SUFFIX)


def _fallback_reply(prompt: str) -> str:
    return f"Here is a response to your request.\n\n{prompt[:200]}\n\nI hope this helps."


def _params(rand: Any, temperature: float | None, **extra: Any) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if temperature is not None:
        params["temperature"] = temperature
    params.update({k: v for k, v in extra.items() if v is not None})
    return params


class ChatUser(ChatMixin):
    """A person chatting through an app or the SDK: multi-turn sessions in their own daytime, idle
    nights, a gradual ramp after sign-up. Most of the population; low volume each."""

    persona = "chat_user"

    def __init__(self, ctx: Any, new_in_window: bool = False) -> None:
        super().__init__(ctx)
        r = self.rand
        country = r.choices(_COUNTRIES, _COUNTRY_W)[0]
        created = (
            r.uniform(self.world.start - 2 * DAY, self.world.end - DAY)
            if new_in_window
            else self.aged_created_at()
        )
        acct = self.new_account(
            country=country,
            tier=r.choices(("free", "payg"), (0.7, 0.3))[0],
            created_at=created,
            email_domain=r.choice(FREE_MAIL),
            verified=r.random() < 0.5,
            ip=self.net.residential(),
            user_agent=r.choice(APP_AGENTS + SDK_AGENTS[:4]),
        )
        self.sessions_per_day = float(self.np_rng.lognormal(np.log(1.6), 0.7))
        self.mobile = r.random() < 0.3
        self.system = r.choice(
            (None, None, "You are a helpful assistant.", "You are ChatGPT-like assistant.")
        )
        if country in _ANSWER_IN and r.random() < 0.4:
            acct.state["answer_in"] = _ANSWER_IN[country]
        self.set_adoption(acct, mean_days=6, share=0.5)

    def events(self, t0: float, t1: float) -> tuple[np.ndarray, np.ndarray]:
        """Sessions at local daytime, scaled by the sign-up ramp."""
        acct = self.accounts[0]
        rate = self.sessions_per_day * self.ramp(acct, (t0 + t1) / 2)
        starts = diurnal_times(self.np_rng, t0, t1, rate, HUMAN_DIURNAL, acct.tz)
        ts = self.alive(session_times(self.np_rng, starts, 3.5, (20, 240)), acct)
        return ts, np.zeros(len(ts), dtype=np.int32)

    def render(self, ts: float, acct: int) -> Request:
        """Continue or start a real conversation."""
        a = self.accounts[0]
        if self.mobile and self.rand.random() < 0.3:  # phones hop between Wi-Fi and carrier NAT
            a.ip = self.net.residential()
        messages, reply = self.chat_turn(ts, a, self.system)
        return self.answer(
            acct=a,
            model=self.pick_model(ts, a),
            messages=messages,
            reply=reply,
            params=_params(self.rand, 0.7 if self.rand.random() < 0.6 else None, stream=True),
        )


class Developer(ChatMixin):
    """A developer testing prompts from scripts: bursty, office hours, mostly code, early adopter of
    new models (a hard negative for release chasing)."""

    persona = "developer"

    def __init__(self, ctx: Any, account_kwargs: dict[str, Any] | None = None) -> None:
        super().__init__(ctx)
        r = self.rand
        kwargs = account_kwargs or {
            "country": r.choices(_COUNTRIES, _COUNTRY_W)[0],
            "tier": r.choice(("payg", "payg", "startup", "free")),
            "created_at": self.aged_created_at(5, 700),
            "email_domain": r.choice(FREE_MAIL + ("dev.io",)),
            "verified": r.random() < 0.7,
        }
        kwargs.setdefault("ip", self.net.cloud() if r.random() < 0.4 else self.net.residential())
        kwargs.setdefault("user_agent", r.choice(SDK_AGENTS))
        acct = self.new_account(**kwargs)
        self.active_days = r.uniform(0.4, 0.9)
        self.per_day = float(self.np_rng.lognormal(np.log(25), 0.9))
        self.temperature = r.choice((None, 0.0, 0.2, 0.7, 1.0))
        self.set_adoption(acct, mean_days=1.5, share=0.8)

    def events(self, t0: float, t1: float) -> tuple[np.ndarray, np.ndarray]:
        """Work sessions of rapid-fire requests on active days."""
        acct = self.accounts[0]
        if self.np_rng.random() > self.active_days:
            return np.empty(0), np.empty(0, dtype=np.int32)
        starts = diurnal_times(self.np_rng, t0, t1, self.per_day / 6, WORK_DIURNAL, acct.tz)
        ts = self.alive(session_times(self.np_rng, starts, 6, (3, 45)), acct)
        return ts, np.zeros(len(ts), dtype=np.int32)

    def render(self, ts: float, acct: int) -> Request:
        """Code tasks, quick experiments and the odd conversation."""
        a = self.accounts[acct]
        r = self.rand.random()
        if r < 0.55:
            messages, reply = self.single_turn("gpteacher-codegen")
        elif r < 0.65:
            messages, reply = self.single_turn("self-instruct-seeds")
        else:
            messages, reply = self.chat_turn(ts, a, history=2)
        status = 200 if self.rand.random() > 0.02 else self.rand.choice((400, 429, 500))
        return self.answer(
            acct=a,
            model=self.pick_model(ts, a),
            messages=messages,
            reply=reply,
            status=status,
            params=_params(
                self.rand, self.temperature, max_tokens=self.rand.choice((None, 1024, 4096, 16000, 32000))
            ),
        )


_BATCH_TEMPLATES = (
    (
        "Summarize the following customer conversation in three bullet points for the CRM record. "
        "Do not include personal data.\n\n---\n{p}\n---",
        None,
    ),
    (
        "Extract every product name, date and monetary amount mentioned in the text below and return them "
        "as JSON with keys products, dates, amounts.\n\nTEXT:\n{p}",
        "You are a precise information extraction engine.",
    ),
    (
        "Classify the following document into one of: billing, technical, account, feedback, other. "
        "Answer with the label only.\n\nDocument:\n{p}",
        None,
    ),
    (
        "Rewrite the following knowledge-base article in plain language at a 8th-grade reading level.\n\n{p}",
        "You are a technical writer at a software company.",
    ),
)


class EnterpriseBatch(Source):
    """An enterprise batch job: one fixed template over thousands of documents in a nightly burst,
    temperature 0, from one cloud egress block. Looks like templated harvesting on volume and
    template reuse."""

    persona = "enterprise_batch"

    def __init__(self, ctx: Any) -> None:
        super().__init__(ctx)
        r = self.rand
        self.servers = self.net.servers()
        self.new_account(
            country=r.choice(("US", "GB", "DE", "JP", "IN", "FR", "SG")),
            tier="enterprise",
            created_at=self.aged_created_at(60, 900),
            email_domain=f"corp{self.index}.example.com",
            verified=True,
            user_agent=r.choice(("python-httpx/0.27.2", "OpenAI/Python 1.54.3")),
            n_keys=2,
        )
        template, system = r.choice(_BATCH_TEMPLATES)
        self.template = org_wording(r, template)
        self.system = org_wording(r, system) if system else None
        self.hour = r.choice((1, 2, 3, 22, 23))
        self.docs = int(r.uniform(1000, 4000))

    def events(self, t0: float, t1: float) -> tuple[np.ndarray, np.ndarray]:
        """One burst per run day, starting at the job's local hour."""
        acct = self.accounts[0]
        day0 = np.floor(t0 / DAY) * DAY
        start = day0 + ((self.hour - acct.tz) % 24) * HOUR + self.rand.uniform(0, 600)
        if not (t0 <= start < t1) or self.np_rng.random() < 0.15:
            return np.empty(0), np.empty(0, dtype=np.int32)
        n = int(self.docs * self.np_rng.uniform(0.7, 1.3))
        ts = burst_times(self.np_rng, start, n, per_second=self.rand.uniform(2, 6))
        return ts, np.zeros(len(ts), dtype=np.int32)

    def render(self, ts: float, acct: int) -> Request:
        """The job's template around one real document."""
        a = self.accounts[0]
        conv = self.corpora.chats[self.rand.randrange(len(self.corpora.chats))]
        doc = conv.turns[0][1]
        messages = [{"role": "system", "content": self.system}] if self.system else []
        messages.append({"role": "user", "content": self.template.format(p=doc)})
        reply = "- " + "\n- ".join(s.strip()[:160] for s in doc.split(".")[:3] if s.strip())
        return self.answer(
            acct=a,
            model=self.world.mini,
            messages=messages,
            reply=reply or "other",
            params={"temperature": 0.0, "max_tokens": 512},
            ip=self.rand.choice(self.servers),
            key=int(ts) % 2,
        )


_JUDGE = (
    "Please act as an impartial judge and evaluate the quality of the response provided by an AI assistant "
    "to the user question displayed below. Your evaluation should consider correctness, helpfulness and "
    "level of detail. Begin your evaluation by providing a short explanation. After providing your "
    "explanation, you must rate the response on a scale of 1 to 10 by strictly following this format: "
    "\"[[rating]]\".\n\n[Question]\n{q}\n\n[The Start of Assistant's Answer]\n{a}\n[The End of Assistant's Answer]"
)


class BenchmarkHarness(Source):
    """An evaluation team running GSM8K with "think step by step" at temperature 0 in one burst, and
    again within hours of a new model's release; some also run LLM-as-judge grading sweeps. Hard
    negative for chain-of-thought elicitation, rubric grading and release chasing."""

    persona = "benchmark_harness"

    def __init__(self, ctx: Any) -> None:
        super().__init__(ctx)
        r = self.rand
        self.servers = self.net.servers()
        self.new_account(
            country=r.choice(("US", "GB", "CA", "DE", "CN", "KR", "FR")),
            tier=r.choice(("research", "startup", "enterprise")),
            created_at=self.aged_created_at(30, 600),
            email_domain=f"lab{self.index}.example.org",
            verified=True,
            user_agent=r.choice(("OpenAI/Python 1.58.1", "python-httpx/0.27.2", "litellm/1.55.10")),
        )
        self.judge = r.random() < 0.4
        w = self.world
        first = w.start + r.uniform(0.1, max(0.2, w.days * 0.3)) * DAY
        on_release = w.new_model.released_at + r.uniform(1, 10) * HOUR
        self.runs = [(first, w.flagship), (first + 3 * HOUR, w.thinking)]
        if on_release < w.end:
            self.runs.append((on_release, w.new_model.name))
        self.queue: list[str] = []

    def events(self, t0: float, t1: float) -> tuple[np.ndarray, np.ndarray]:
        """Each run is a burst over the whole test split (plus a judge sweep for some teams)."""
        out = []
        n = len(self.corpora.pool("gsm8k-test")) + (252 if self.judge else 0)
        for start, _model in self.runs:
            if t0 <= start < t1:
                out.append(burst_times(self.np_rng, start, n, per_second=self.rand.uniform(4, 10)))
        ts = np.concatenate(out) if out else np.empty(0)
        return ts, np.zeros(len(ts), dtype=np.int32)

    def _model_at(self, ts: float) -> str:
        model = self.runs[0][1]
        for start, m in self.runs:
            if ts >= start:
                model = m
        return model

    def render(self, ts: float, acct: int) -> Request:
        """A GSM8K item with the canonical CoT trigger, or a judge prompt."""
        a = self.accounts[0]
        st = a.state
        model = self._model_at(ts)
        if st.get("model") != model:
            st["model"], st["i"] = model, 0
        i = st["i"]
        st["i"] = i + 1
        gsm = self.corpora.pool("gsm8k-test")
        if i < len(gsm):
            p = gsm[i]
            messages = [{"role": "user", "content": f"Q: {p.text}\nA: Let's think step by step."}]
            reply = p.reference or ""
        else:
            p = pick(self.rand, self.corpora.pool("self-instruct-user-oriented"))
            messages = [{"role": "user", "content": _JUDGE.format(q=p.text, a=p.reference or "")}]
            reply = f"The response addresses the question directly and is accurate. Rating: [[{self.rand.randint(4, 9)}]]"
        return self.answer(
            acct=a,
            model=model,
            messages=messages,
            reply=reply,
            params={"temperature": 0.0, "max_tokens": 1024, "top_p": 1.0},
            ip=self.rand.choice(self.servers),
        )


_AGENT_SYSTEM = (
    "You are an AI coding agent running inside the user's editor. You can read and edit files and run "
    "commands using the tools provided. Always explain briefly what you are about to do, make the smallest "
    "correct change, and run the tests after editing.\n\nTOOLS:\n- read_file(path)\n- write_file(path, content)\n"
    "- search(query)\n- run_command(cmd)\n- list_dir(path)\n- apply_diff(path, diff)\n- ask_user(question)\n"
)


def agent_transcript(
    rand: Any, task: Any, step: int, tool_names: tuple[str, ...]
) -> tuple[list[dict[str, str]], str]:
    """A tool-using agent conversation at a given step: real task, tool calls and tool results."""
    messages = [{"role": "user", "content": task.text}]
    ref = task.reference or task.text
    for s in range(step):
        tool = tool_names[(s + len(task.text)) % len(tool_names)]
        call = json.dumps({"tool_calls": [{"name": tool, "arguments": {"path": f"src/module_{s}.py"}}]})
        messages.append({"role": "assistant", "content": call})
        messages.append({"role": "tool", "content": ref[s * 200 : s * 200 + 600] or "ok"})
    if rand.random() < 0.7:
        tool = tool_names[(step + 1) % len(tool_names)]
        reply = json.dumps({"tool_calls": [{"name": tool, "arguments": {"path": f"src/module_{step}.py"}}]})
    else:
        reply = ref
    return messages, reply


class CodingAgent(Source):
    """A coding agent in an IDE: long multi-turn tool-use loops, tool definitions on every call,
    high volume, streaming, one IDE user agent; sometimes left running overnight."""

    persona = "coding_agent"
    TOOLS = ("read_file", "write_file", "search", "run_command", "list_dir", "apply_diff")

    def __init__(self, ctx: Any) -> None:
        super().__init__(ctx)
        r = self.rand
        country = r.choices(_COUNTRIES, _COUNTRY_W)[0]
        acct = self.new_account(
            country=country,
            tier=r.choice(("payg", "startup", "enterprise")),
            created_at=self.aged_created_at(10, 500),
            email_domain=r.choice(FREE_MAIL + ("dev.io",)),
            verified=r.random() < 0.8,
            ip=self.net.residential(),
            user_agent=r.choice(IDE_AGENTS),
        )
        self.per_day = float(r.uniform(200, 900))
        self.overnight = r.random() < 0.3
        self.set_adoption(acct, mean_days=1.0, share=0.9)

    def events(self, t0: float, t1: float) -> tuple[np.ndarray, np.ndarray]:
        """Agent loops during work hours; some users leave long jobs running at night."""
        acct = self.accounts[0]
        curve = np.maximum(WORK_DIURNAL, 0.35) if self.overnight else WORK_DIURNAL
        starts = diurnal_times(self.np_rng, t0, t1, self.per_day / 12, curve, acct.tz)
        ts = self.alive(session_times(self.np_rng, starts, 12, (2, 20)), acct)
        return ts, np.zeros(len(ts), dtype=np.int32)

    def render(self, ts: float, acct: int) -> Request:
        """The next step of the current task's tool loop."""
        a = self.accounts[0]
        st = a.state
        if "task" not in st or ts - st.get("last", 0) > 600 or st["step"] >= st["steps"]:
            st["task"] = pick(self.rand, self.corpora.pool("gpteacher-codegen"))
            st["step"], st["steps"] = 0, self.rand.randint(3, 14)
        st["last"] = ts
        messages, reply = agent_transcript(self.rand, st["task"], st["step"], self.TOOLS)
        st["step"] += 1
        messages.insert(0, {"role": "system", "content": _AGENT_SYSTEM})
        return self.answer(
            acct=a,
            model=self.pick_model(ts, a, (0.7, 0.1, 0.2)),
            messages=messages,
            reply=reply,
            params={
                "temperature": 0.2,
                "stream": True,
                "tools": len(self.TOOLS) + 6,
                "max_tokens": a.state.setdefault("max_tokens", self.rand.choice((8192, 16000, 32000))),
            },
        )


_SUPPORT = (
    "You are Aria, the virtual assistant for {co}. Answer customer questions politely and concisely. "
    "If you do not know, offer to connect the customer to a human agent. Never discuss competitors."
)


class SupportBot(ChatMixin):
    """A customer-support bot: one system prompt, many end users, 24/7 with diurnal load, from a few
    servers. Hard negative for template reuse and 24/7 duty cycle."""

    persona = "support_bot"

    def __init__(self, ctx: Any) -> None:
        super().__init__(ctx)
        r = self.rand
        self.servers = self.net.servers()
        self.new_account(
            country=r.choice(("US", "GB", "DE", "IN", "BR", "AU", "SG")),
            tier=r.choice(("enterprise", "startup", "payg")),
            created_at=self.aged_created_at(30, 800),
            email_domain=f"shop{self.index}.example.com",
            verified=True,
            user_agent=r.choice(SDK_AGENTS[:6]),
        )
        self.system = org_wording(r, _SUPPORT).format(
            co=r.choice(
                (
                    "Northwind Outfitters",
                    "Contoso Bank",
                    "Fabrikam Mobile",
                    "Tailspin Travel",
                    "Wide World Importers",
                )
            )
        )
        self.per_day = float(r.uniform(400, 1500))

    def events(self, t0: float, t1: float) -> tuple[np.ndarray, np.ndarray]:
        """Round-the-clock load that follows the customers' day."""
        ts = diurnal_times(self.np_rng, t0, t1, self.per_day, GLOBAL_DIURNAL, 0.0)
        return ts, np.zeros(len(ts), dtype=np.int32)

    def render(self, ts: float, acct: int) -> Request:
        """One end user's turn under the bot's system prompt."""
        a = self.accounts[0]
        if self.rand.random() < 0.8:
            if self.rand.random() < 0.6:
                a.state.pop("conv", None)  # most requests come from a different end user
            messages, reply = self.chat_turn(ts, a, self.system, history=1)
        else:
            messages, reply = self.single_turn("self-instruct-user-oriented", system=self.system)
        return self.answer(
            acct=a,
            model=self.world.mini,
            messages=messages,
            reply=reply,
            params={"temperature": 0.3, "max_tokens": 600},
            ip=self.rand.choice(self.servers),
        )


_LANGS = (
    "German",
    "French",
    "Spanish",
    "Japanese",
    "Korean",
    "Brazilian Portuguese",
    "Simplified Chinese",
    "Italian",
    "Dutch",
    "Polish",
    "Turkish",
    "Vietnamese",
)


class TranslationService(Source):
    """A translation / ETL pipeline: a fixed instruction over a stream of real texts, around the
    clock, temperature near 0. Hard negative for template reuse and multilingual instructions."""

    persona = "translation_etl"

    def __init__(self, ctx: Any) -> None:
        super().__init__(ctx)
        r = self.rand
        self.servers = self.net.servers()
        self.new_account(
            country=r.choice(("DE", "NL", "JP", "US", "PL", "FR", "KR")),
            tier=r.choice(("enterprise", "payg")),
            created_at=self.aged_created_at(30, 800),
            email_domain=f"lingo{self.index}.example.net",
            verified=True,
            user_agent=r.choice(("python-requests/2.32.3", "Go-http-client/2.0", "okhttp/4.12.0")),
        )
        self.langs = r.sample(_LANGS, 3)
        self.instruction = org_wording(r, "Translate the following text into {lang}. Preserve formatting.")
        self.system = org_wording(r, "You are a professional translator. Output only the translation.")
        self.per_day = float(r.uniform(500, 2000))

    def events(self, t0: float, t1: float) -> tuple[np.ndarray, np.ndarray]:
        """A queue drained at a steady rate, day and night."""
        ts = diurnal_times(self.np_rng, t0, t1, self.per_day, GLOBAL_DIURNAL, 0.0)
        return ts, np.zeros(len(ts), dtype=np.int32)

    def render(self, ts: float, acct: int) -> Request:
        """Translate one real text."""
        a = self.accounts[0]
        conv = self.corpora.chats[self.rand.randrange(len(self.corpora.chats))]
        text = conv.turns[0][1 if self.rand.random() < 0.5 else 0][:1500]
        lang = self.rand.choice(self.langs)
        messages = [
            {"role": "system", "content": self.system},
            {
                "role": "user",
                "content": self.instruction.format(lang=lang) + f"\n\n{text}",
            },
        ]
        return self.answer(
            acct=a,
            model=self.world.mini,
            messages=messages,
            reply=text,
            params={"temperature": 0.1},
            ip=self.rand.choice(self.servers),
        )


_FOLLOW_UPS = (
    "I don't understand the second step, can you explain it differently?",
    "Why did you multiply there?",
    "Can you check my answer? I got a different number.",
    "Thanks! Can you give me a similar problem to practise?",
    "Wait, where does that number come from?",
)
_HOMEWORK = (
    "{p}\n\nExplain your reasoning step by step so I can follow it.",
    "Can you help me with this homework problem? Please show all the steps.\n{p}",
    "{p}\nPlease think step by step and explain how you got the answer.",
    "{p}",
)


class Classroom(Source):
    """A university course or hackathon: dozens of education accounts signed up in one burst, behind
    one campus NAT, often on one grant card, asking homework with "explain step by step". Hard
    negative for sign-up bursts, shared infrastructure and chain-of-thought requests."""

    persona = "classroom"

    def __init__(self, ctx: Any, size: int) -> None:
        super().__init__(ctx)
        r = self.rand
        w = self.world
        country = r.choice(("US", "GB", "IN", "DE", "KR", "SG", "BR", "CA", "AU"))
        signup = (
            r.uniform(w.start, w.start + DAY * max(1, w.days - 1) * 0.5)
            if r.random() < 0.4
            else w.start - r.uniform(3, 60) * DAY
        )
        domain = f"uni{self.index}.example.edu"
        block = self.net.block()
        nat = [self.net.in_block(block) for _ in range(r.randint(1, 3))]
        shared_card = self.world.mint("pf", self.index, "grant", length=24) if r.random() < 0.6 else None
        for _ in range(size):
            self.new_account(
                country=country,
                tier="education",
                created_at=signup + r.uniform(0, 2 * HOUR),
                email_domain=domain,
                payment_fingerprint=shared_card,
                verified=r.random() < 0.3,
                ip=r.choice(nat),
                user_agent=r.choice(APP_AGENTS + SDK_AGENTS[:3]),
            )
        self.rates = self.np_rng.lognormal(np.log(8), 0.6, size=size)
        self.class_hour = r.choice((9, 10, 13, 14, 15))

    def events(self, t0: float, t1: float) -> tuple[np.ndarray, np.ndarray]:
        """Students work in the evening and together during the lab session."""
        ts_all, idx_all = [], []
        curve = HUMAN_DIURNAL.copy()
        curve[self.class_hour] *= 4
        for i, acct in enumerate(self.accounts):
            starts = diurnal_times(self.np_rng, t0, t1, self.rates[i] / 3, curve, acct.tz)
            ts = self.alive(session_times(self.np_rng, starts, 3, (30, 300)), acct)
            ts_all.append(ts)
            idx_all.append(np.full(len(ts), i, dtype=np.int32))
        return np.concatenate(ts_all), np.concatenate(idx_all)

    def render(self, ts: float, acct: int) -> Request:
        """Homework questions, mostly maths."""
        a = self.accounts[acct]
        corpus = "gsm8k-train" if self.rand.random() < 0.75 else "self-instruct-seeds"
        st = a.state
        if st.get("last_q") and ts - st.get("last", 0.0) < 900 and self.rand.random() < 0.45:
            # A follow-up in the same chat: students ask about the step they did not get.
            q, ref = st["last_q"]
            messages = [
                {"role": "user", "content": q},
                {"role": "assistant", "content": ref},
                {"role": "user", "content": self.rand.choice(_FOLLOW_UPS)},
            ]
            reply = ref
        else:
            p = pick(self.rand, self.corpora.pool(corpus))
            q, reply = self.rand.choice(_HOMEWORK).format(p=p.text), p.reference or _fallback_reply(p.text)
            messages = [{"role": "user", "content": q}]
            st["last_q"] = (q, reply)
        st["last"] = ts
        if "params" not in st:
            st["params"] = self.rand.choice(
                ({"stream": True}, {"temperature": 0.7, "stream": True}, {}, {"temperature": 1.0})
            )
        return self.answer(
            acct=a,
            model=self.pick_model(ts, a, (0.5, 0.3, 0.2)),
            messages=messages,
            reply=reply,
            params=dict(st["params"]),
        )


_TUTOR = (
    "You are a patient maths tutor for secondary-school students. For every question, reason step by step, "
    "show each intermediate calculation, and only then state the final answer. Never skip steps.",
    "You are an audit assistant. For each control question, explain your reasoning step by step, cite the "
    "evidence you relied on, and state a conclusion (effective / not effective) at the end.",
    "You are a compliance reviewer. Think through the request step by step and explain the reasoning behind "
    "your assessment so that an auditor can verify it.",
)


class TutoringApp(Source):
    """A tutoring, audit or compliance app that asks for step-by-step reasoning on every request, all
    day across its users' time zones. Hard negative for chain-of-thought elicitation."""

    persona = "tutoring_app"

    def __init__(self, ctx: Any) -> None:
        super().__init__(ctx)
        r = self.rand
        self.servers = self.net.servers()
        self.new_account(
            country=r.choice(("US", "IN", "GB", "SG", "KR", "BR")),
            tier=r.choice(("startup", "payg", "enterprise")),
            created_at=self.aged_created_at(20, 600),
            email_domain=f"tutor{self.index}.example.com",
            verified=True,
            user_agent=r.choice(SDK_AGENTS[:8]),
        )
        self.system = org_wording(r, r.choice(_TUTOR))
        self.per_day = float(r.uniform(200, 800))
        self.set_adoption(self.accounts[0], mean_days=4)

    def events(self, t0: float, t1: float) -> tuple[np.ndarray, np.ndarray]:
        """Users worldwide, so load never stops."""
        ts = diurnal_times(self.np_rng, t0, t1, self.per_day, GLOBAL_DIURNAL, 0.0)
        return ts, np.zeros(len(ts), dtype=np.int32)

    def render(self, ts: float, acct: int) -> Request:
        """A student's or auditor's question under the app's system prompt."""
        a = self.accounts[0]
        corpus = self.rand.choice(
            ("gsm8k-train", "gsm8k-train", "self-instruct-seeds", "self-instruct-user-oriented")
        )
        p = pick(self.rand, self.corpora.pool(corpus))
        messages = [{"role": "system", "content": self.system}, {"role": "user", "content": p.text}]
        return self.answer(
            acct=a,
            model=self.pick_model(ts, a, (0.4, 0.2, 0.4)),
            messages=messages,
            reply=p.reference or _fallback_reply(p.text),
            params={"temperature": 0.3},
            ip=self.rand.choice(self.servers),
        )


class MonitoringAgent(Source):
    """A monitoring or health-check agent: a small fixed prompt every few minutes, 24/7, no idle gap.
    Hard negative for duty cycle and sampling-parameter regularity."""

    persona = "monitoring_agent"

    def __init__(self, ctx: Any) -> None:
        super().__init__(ctx)
        r = self.rand
        self.period = r.choice((60.0, 120.0, 300.0, 300.0, 600.0))
        self.new_account(
            country=r.choice(("US", "DE", "GB", "JP", "IN")),
            tier=r.choice(("payg", "enterprise")),
            created_at=self.aged_created_at(30, 700),
            email_domain=f"ops{self.index}.example.com",
            verified=True,
            ip=self.net.cloud(),
            user_agent=r.choice(("Go-http-client/2.0", "curl/8.5.0")),
        )
        self.triage = r.random() < 0.6
        self.instruction = org_wording(
            r, "Classify the following service message as OK, WARN or CRITICAL and give a one-line reason."
        )
        # Quality-drift canaries send one fixed real prompt again and again and compare the answers.
        self.canary = pick(r, self.corpora.pool("self-instruct-seeds"))

    def events(self, t0: float, t1: float) -> tuple[np.ndarray, np.ndarray]:
        """A cron-like schedule with small jitter."""
        start = np.ceil(t0 / self.period) * self.period
        ts = np.arange(start, t1, self.period) + self.np_rng.uniform(
            0, 5, size=len(np.arange(start, t1, self.period))
        )
        ts = ts[ts < t1]
        return ts, np.zeros(len(ts), dtype=np.int32)

    def render(self, ts: float, acct: int) -> Request:
        """A fixed canary prompt, or triage of a real snippet of text."""
        a = self.accounts[0]
        if self.triage:
            conv = self.corpora.chats[self.rand.randrange(len(self.corpora.chats))]
            text = conv.turns[0][1][:600]
            messages = [
                {
                    "role": "user",
                    "content": f"{self.instruction}\n\n{text}",
                }
            ]
            reply = self.rand.choice(("OK - routine message.", "WARN - mentions a possible failure.", "OK"))
        else:
            messages = [{"role": "user", "content": self.canary.text}]
            reply = self.canary.reference or "OK"
        status = 200 if self.rand.random() > 0.005 else 503
        return self.answer(
            acct=a,
            model=self.world.mini,
            messages=messages,
            reply=reply,
            status=status,
            params={"temperature": 0.0, "max_tokens": 16 if self.triage else 512},
        )


_SYNTH = (
    "Generate {n} realistic examples of messages that a customer might send to a {domain} company and that our "
    'intent classifier should label as "{label}". Vary tone, length and spelling. Return one JSON object per '
    'line with the key "text". Here is one real example for style:\n\n{p}',
    "We are building a moderation classifier. Write {n} new user messages similar in topic to the example "
    'below, some harmful and some benign, each with a label "harmful" or "benign". Output JSON lines.\n\n'
    "Example: {p}",
)


class SyntheticDataTeam(Source):
    """A team legitimately generating synthetic training data for its own small classifier: bursts of
    "generate N examples" prompts at high temperature. Hard negative for synthetic-data harvesting."""

    persona = "synthetic_data_team"

    def __init__(self, ctx: Any) -> None:
        super().__init__(ctx)
        r = self.rand
        self.new_account(
            country=r.choices(_COUNTRIES, _COUNTRY_W)[0],
            tier=r.choice(("startup", "payg", "enterprise")),
            created_at=self.aged_created_at(10, 400),
            email_domain=f"ml{self.index}.example.ai",
            verified=True,
            ip=self.net.cloud(),
            user_agent=r.choice(SDK_AGENTS[:5]),
        )
        self.per_day = float(r.uniform(100, 600))
        self.domain = r.choice(("banking", "telecom", "e-commerce", "insurance", "airline"))
        self.templates = tuple(org_wording(r, t) for t in _SYNTH)

    def events(self, t0: float, t1: float) -> tuple[np.ndarray, np.ndarray]:
        """Generation runs during the working day."""
        acct = self.accounts[0]
        starts = diurnal_times(self.np_rng, t0, t1, self.per_day / 40, WORK_DIURNAL, acct.tz)
        ts = session_times(self.np_rng, starts, 40, (0.5, 4))
        return ts, np.zeros(len(ts), dtype=np.int32)

    def render(self, ts: float, acct: int) -> Request:
        """One generation call seeded by a real example."""
        a = self.accounts[0]
        src = "hh-harmless-first-turns" if self.rand.random() < 0.4 else "self-instruct-user-oriented"
        p = pick(self.rand, self.corpora.pool(src))
        label = self.rand.choice(("billing_dispute", "cancel_account", "upgrade", "complaint", "praise"))
        content = self.rand.choice(self.templates).format(
            n=self.rand.choice((10, 20, 25)), domain=self.domain, label=label, p=p.text
        )
        reply = "\n".join(json.dumps({"text": f"{p.text[:80]} (variant {i})"}) for i in range(8))
        return self.answer(
            acct=a,
            model=self.world.flagship,
            messages=[{"role": "user", "content": content}],
            reply=reply,
            params={"temperature": 1.0, "n": self.rand.choice((1, 2, 4)), "max_tokens": 2048},
        )


class CorporateTeam(Source):
    """A company's team: several accounts on one corporate card, one e-mail domain and one NAT
    egress address, each used by a developer or an analyst. Hard negative for shared payment and
    network linkage."""

    persona = "corporate_team"

    def __init__(self, ctx: Any, size: int) -> None:
        super().__init__(ctx)
        r = self.rand
        self.members: list[Developer] = []
        card = self.world.mint("pf", self.index, "corp", length=24)
        domain = f"team{self.index}.example.com"
        nat = self.net.cloud()
        country = r.choices(_COUNTRIES, _COUNTRY_W)[0]
        for _ in range(size):
            dev = Developer(
                ctx,
                account_kwargs={
                    "country": country,
                    "tier": r.choice(("enterprise", "payg")),
                    "created_at": self.aged_created_at(5, 500),
                    "email_domain": domain,
                    "payment_fingerprint": card,
                    "verified": True,
                    "ip": nat,
                    "persona": self.persona,
                },
            )
            self.members.append(dev)
            self.accounts.append(dev.accounts[0])

    def events(self, t0: float, t1: float) -> tuple[np.ndarray, np.ndarray]:
        """Each member works on their own schedule."""
        ts_all, idx_all = [], []
        for i, dev in enumerate(self.members):
            ts, _ = dev.events(t0, t1)
            ts_all.append(ts)
            idx_all.append(np.full(len(ts), i, dtype=np.int32))
        return np.concatenate(ts_all), np.concatenate(idx_all)

    def render(self, ts: float, acct: int) -> Request:
        """Delegate to the member's own behaviour."""
        return self.members[acct].render(ts, 0)


BENIGN_PERSONAS = (
    "chat_user",
    "developer",
    "enterprise_batch",
    "benchmark_harness",
    "coding_agent",
    "support_bot",
    "translation_etl",
    "classroom",
    "tutoring_app",
    "monitoring_agent",
    "synthetic_data_team",
    "corporate_team",
)


def benign_population(ctx: Any, scale: float) -> list[Source]:
    """Every benign persona, in numbers that roughly follow a large API's customer mix."""

    def n(base: float) -> int:
        return max(1, round(base * scale))

    sources: list[Source] = []
    chat = n(1500)
    sources += [ChatUser(ctx, new_in_window=(i % 20 == 0)) for i in range(chat)]
    sources += [Developer(ctx) for _ in range(n(250))]
    sources += [EnterpriseBatch(ctx) for _ in range(n(8))]
    sources += [BenchmarkHarness(ctx) for _ in range(n(6))]
    sources += [CodingAgent(ctx) for _ in range(n(40))]
    sources += [SupportBot(ctx) for _ in range(n(8))]
    sources += [TranslationService(ctx) for _ in range(n(6))]
    sources += [Classroom(ctx, size=ctx_rand_size(ctx, i)) for i in range(n(4))]
    sources += [TutoringApp(ctx) for _ in range(n(5))]
    sources += [MonitoringAgent(ctx) for _ in range(n(8))]
    sources += [SyntheticDataTeam(ctx) for _ in range(n(4))]
    sources += [CorporateTeam(ctx, size=4 + (i * 3) % 7) for i in range(n(12))]
    return sources


def ctx_rand_size(ctx: Any, i: int) -> int:
    """Class sizes from 20 to 45, varying deterministically with the class's position."""
    return 20 + (i * 11 + ctx.seed) % 26
