"""A small async client of ``POST /v1/decide`` for gateway plug-ins (the LiteLLM guardrail uses it).

It never raises for the gateway's sake: past its deadline, or when the service cannot be reached
or answers nonsense, it returns an ``allow`` marked ``fail_open`` (the service being down must not
take the API down with it).
"""

from __future__ import annotations

import logging
from typing import Any

import httpx

log = logging.getLogger("distillguard.respond")


def fail_open_answer(cause: str) -> dict[str, Any]:
    """The answer used when the decision service cannot give one."""
    return {
        "decision": "allow",
        "status": 200,
        "reasons": [f"fail_open:{cause}"],
        "reasoning": "full",
        "headers": {},
        "actions": [],
        "fail_open": True,
    }


class DecideClient:
    """Calls a distillguard decision service with a deadline."""

    def __init__(self, api_base: str, timeout_s: float = 0.05) -> None:
        self.api_base = api_base.rstrip("/")
        self.timeout_s = timeout_s
        self._client = httpx.AsyncClient(timeout=timeout_s)

    async def decide(self, body: dict[str, Any]) -> dict[str, Any]:
        """The service's answer for one request body, or a fail-open allow."""
        try:
            r = await self._client.post(f"{self.api_base}/v1/decide", json=body)
        except httpx.TimeoutException:
            log.warning("distillguard decision timed out after %.0f ms; allowing", self.timeout_s * 1e3)
            return fail_open_answer("timeout")
        except httpx.HTTPError as exc:
            log.warning("distillguard decision service unreachable (%s); allowing", exc.__class__.__name__)
            return fail_open_answer("unreachable")
        if r.status_code == 400:
            # Our own request was malformed: a bug to log loudly, not a reason to refuse the user.
            log.error("distillguard refused the decision request: %s", r.text)
            return fail_open_answer("bad_request")
        try:
            answer = r.json()
        except ValueError:
            return fail_open_answer("bad_answer")
        if not isinstance(answer, dict) or answer.get("decision") not in ("allow", "shape", "deny"):
            return fail_open_answer("bad_answer")
        return answer

    async def aclose(self) -> None:
        """Close connections."""
        await self._client.aclose()
