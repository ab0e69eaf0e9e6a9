"""The world the simulated accounts live in: clock, time zones, networks, clients, models, identities.

Everything here is deliberately shared by benign personas and attack tactics: cloud addresses,
SDK user agents, free e-mail domains, countries and tiers occur on both sides, so that no single
field of a record separates attack from benign traffic.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import random
from dataclasses import dataclass, field

import numpy as np

HOUR = 3600.0
DAY = 86400.0

# Billing country -> UTC offset in hours (one representative zone per country).
COUNTRY_TZ: dict[str, float] = {
    "US": -6.0,
    "CA": -5.0,
    "BR": -3.0,
    "MX": -6.0,
    "GB": 0.0,
    "DE": 1.0,
    "FR": 1.0,
    "NL": 1.0,
    "PL": 1.0,
    "NG": 1.0,
    "KE": 3.0,
    "RU": 3.0,
    "TR": 3.0,
    "IN": 5.5,
    "SG": 8.0,
    "CN": 8.0,
    "HK": 8.0,
    "VN": 7.0,
    "ID": 7.0,
    "KR": 9.0,
    "JP": 9.0,
    "AU": 10.0,
    "AE": 4.0,
    "IL": 2.0,
}
# Rough weights of where a global API's benign users bill from.
BENIGN_COUNTRIES = {
    "US": 30,
    "IN": 10,
    "GB": 6,
    "DE": 6,
    "FR": 4,
    "CA": 4,
    "BR": 4,
    "JP": 4,
    "KR": 3,
    "SG": 3,
    "AU": 3,
    "NL": 2,
    "PL": 2,
    "ID": 2,
    "VN": 2,
    "MX": 2,
    "TR": 2,
    "NG": 2,
    "IL": 1,
    "AE": 1,
    "KE": 1,
    "HK": 2,
    "CN": 1,
    "RU": 1,
}

# Human activity by local hour: quiet nights, a working-day plateau and an evening peak.
HUMAN_DIURNAL = np.array(
    [
        0.15,
        0.08,
        0.05,
        0.04,
        0.04,
        0.06,
        0.15,
        0.35,
        0.65,
        0.9,
        1.0,
        1.0,
        0.9,
        0.95,
        1.0,
        1.0,
        0.95,
        0.85,
        0.8,
        0.85,
        0.9,
        0.8,
        0.55,
        0.3,
    ]
)
WORK_DIURNAL = np.array(
    [
        0.02,
        0.01,
        0.01,
        0.01,
        0.01,
        0.02,
        0.05,
        0.2,
        0.7,
        1.0,
        1.0,
        1.0,
        0.7,
        0.9,
        1.0,
        1.0,
        0.95,
        0.8,
        0.45,
        0.25,
        0.15,
        0.1,
        0.06,
        0.03,
    ]
)
# A service used worldwide: load follows the sum of regions' days, so it never goes idle.
GLOBAL_DIURNAL = np.array(
    [
        0.55,
        0.5,
        0.5,
        0.55,
        0.6,
        0.65,
        0.7,
        0.8,
        0.9,
        0.95,
        1.0,
        1.0,
        1.0,
        1.0,
        1.0,
        0.95,
        0.9,
        0.9,
        0.85,
        0.8,
        0.75,
        0.7,
        0.65,
        0.6,
    ]
)
FLAT = np.ones(24)

FREE_MAIL = (
    "gmail.com",
    "outlook.com",
    "yahoo.com",
    "proton.me",
    "icloud.com",
    "qq.com",
    "163.com",
    "hotmail.com",
    "mail.ru",
    "naver.com",
    "yandex.ru",
    "gmx.de",
)

SDK_AGENTS = (
    "OpenAI/Python 1.54.3",
    "OpenAI/Python 1.58.1",
    "AsyncOpenAI/Python 1.57.0",
    "OpenAI/Python 1.61.0",
    "OpenAI/JS 4.77.0",
    "OpenAI/JS 4.80.1",
    "python-httpx/0.27.2",
    "python-requests/2.32.3",
    "anthropic-python/0.42.0",
    "litellm/1.55.10",
    "langchain-openai/0.2.14",
    "Go-http-client/2.0",
    "okhttp/4.12.0",
    "curl/8.5.0",
    "axios/1.7.9",
)
APP_AGENTS = (
    "ChatBox/1.8.1 (Windows)",
    "NextChat/2.15.8",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) "
    "AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 "
    "Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Mobile/15E148",
    "TypingMind/2.4",
    "Raycast/1.88.0",
)
IDE_AGENTS = (
    "Cline/3.2.5 (vscode 1.96.2)",
    "continue/0.9.248 (vscode)",
    "aider/0.69.1",
    "RooCode/3.3.2 (vscode 1.96.2)",
    "opencode/0.1.190",
)


@dataclass(frozen=True)
class ModelRelease:
    """A model name and the moment it became available."""

    name: str
    released_at: float
    reasoning: bool


@dataclass
class World:
    """Shared context of one simulation: time window, models, and deterministic identity minting."""

    start: float
    days: int
    seed: int
    models: tuple[ModelRelease, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        start_date = dt.datetime.fromtimestamp(self.start, dt.UTC)
        # The new model launches a little after the first third of the window, mid-morning UTC, so
        # every run has traffic before and at least a day after the release.
        release = self.start + max(1.0, round(self.days * 0.4)) * DAY + 9 * HOUR
        release_date = dt.datetime.fromtimestamp(release, dt.UTC).strftime("%Y-%m-%d")
        old = (start_date - dt.timedelta(days=28)).strftime("%Y-%m-%d")
        self.models = (
            ModelRelease(f"frontier-2-{old}", self.start - 28 * DAY, False),
            ModelRelease(f"frontier-2-mini-{old}", self.start - 28 * DAY, False),
            ModelRelease(f"frontier-2-thinking-{old}", self.start - 28 * DAY, True),
            ModelRelease(f"frontier-3-{release_date}", release, True),
        )

    @property
    def end(self) -> float:
        """Epoch seconds at which the window closes."""
        return self.start + self.days * DAY

    @property
    def flagship(self) -> str:
        """The general model most traffic uses before the release."""
        return self.models[0].name

    @property
    def mini(self) -> str:
        """The cheap model."""
        return self.models[1].name

    @property
    def thinking(self) -> str:
        """The reasoning model that returns its thinking text."""
        return self.models[2].name

    @property
    def new_model(self) -> ModelRelease:
        """The model released inside the window."""
        return self.models[3]

    def is_reasoning(self, model: str) -> bool:
        """Whether a model returns reasoning text."""
        return any(m.reasoning for m in self.models if m.name == model)

    def mint(self, kind: str, *parts: object, length: int = 20) -> str:
        """Return an opaque, deterministic identifier: nothing in it reveals how it was generated."""
        h = hashlib.blake2b(repr((self.seed, kind, parts)).encode(), digest_size=16).hexdigest()
        return f"{kind}_{h[:length]}"


class Network:
    """Hands out IP addresses from residential, mobile, cloud, corporate and campus space."""

    # Plausible public first octets per space; only the shape matters to a detector.
    _RESIDENTIAL = (24, 47, 49, 58, 67, 73, 76, 86, 92, 98, 101, 110, 112, 175, 177, 186, 187, 189, 190, 200)
    _CLOUD = (3, 13, 18, 20, 34, 35, 40, 44, 52, 54, 104, 134, 137, 138, 139, 143, 146, 157, 159, 167)
    _HOSTING = (5, 23, 37, 45, 46, 62, 77, 78, 80, 81, 85, 89, 91, 93, 94, 95, 178, 185, 188, 193)

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def _addr(self, first: int) -> str:
        r = self.rng
        return f"{first}.{r.randrange(256)}.{r.randrange(256)}.{r.randrange(1, 255)}"

    def residential(self) -> str:
        """A home broadband address, sometimes IPv6."""
        if self.rng.random() < 0.15:
            return str(ipaddress.IPv6Address((0x2600 << 112) | self.rng.getrandbits(100)))
        return self._addr(self.rng.choice(self._RESIDENTIAL))

    def cloud(self) -> str:
        """An address inside a large cloud provider."""
        return self._addr(self.rng.choice(self._CLOUD))

    def block(self, hosting: bool | None = None) -> str:
        """A /24 prefix ('a.b.c.') from cloud or small-hosting space (None: hosting 30% of the time)."""
        if hosting is None:
            hosting = self.rng.random() < 0.3
        first = self.rng.choice(self._HOSTING if hosting else self._CLOUD)
        return f"{first}.{self.rng.randrange(256)}.{self.rng.randrange(256)}."

    def servers(self) -> list[str]:
        """A handful of application servers behind one organisation's /24 egress, not a new address per request."""
        block = self.block()
        return [self.in_block(block) for _ in range(self.rng.randint(1, 6))]

    def in_block(self, prefix: str) -> str:
        """An address inside a /24 prefix from ``block``."""
        return f"{prefix}{self.rng.randrange(1, 255)}"


def diurnal_times(
    rng: np.random.Generator, t0: float, t1: float, expected: float, curve: np.ndarray, tz: float
) -> np.ndarray:
    """Draw Poisson arrivals in [t0, t1) whose hourly intensity follows ``curve`` in local time."""
    if expected <= 0 or t1 <= t0:
        return np.empty(0)
    hours = np.arange(np.floor(t0 / HOUR), np.ceil(t1 / HOUR))
    local = ((hours + tz) % 24).astype(int)
    weights = curve[local]
    # Clip partial hours at the window edges.
    starts = np.maximum(hours * HOUR, t0)
    ends = np.minimum((hours + 1) * HOUR, t1)
    weights = weights * np.clip((ends - starts) / HOUR, 0, 1)
    total = weights.sum()
    if total <= 0:
        return np.empty(0)
    n = rng.poisson(expected * total / (curve.mean() * (t1 - t0) / HOUR))
    if n == 0:
        return np.empty(0)
    idx = rng.choice(len(hours), size=n, p=weights / total)
    return starts[idx] + rng.random(n) * (ends[idx] - starts[idx])


def tokens(text: str | None) -> int:
    """Approximate a tokenizer: about four characters per token."""
    return 0 if not text else max(1, len(text) // 4)
