"""A LiteLLM proxy guardrail that asks a distillguard decision service about every call.

Install with ``pip install 'distillguard[litellm]'`` and register it in the LiteLLM proxy's
``config.yaml`` (docs/respond.md has the full example)::

    guardrails:
      - guardrail_name: distillguard
        litellm_params:
          guardrail: distillguard.respond.litellm_guardrail.DistillGuardGuardrail
          mode: [pre_call, post_call]
          api_base: http://127.0.0.1:8787
          default_on: true

``pre_call`` sends the call's account, key and messages to ``POST /v1/decide``: a deny becomes an
HTTP 403/429 for the client; a shape is remembered in the call's metadata, and ``post_call``
withholds or summarises the reasoning of the reply (streamed replies: reasoning deltas are
withheld for both modes, since a summary needs the whole text). The account is LiteLLM's
organisation, team or user id, in that order; the key is LiteLLM's hashed key.
"""

from __future__ import annotations

import os
from collections.abc import AsyncGenerator
from typing import Any

try:
    from fastapi import HTTPException
    from litellm.integrations.custom_guardrail import CustomGuardrail
except ImportError as exc:  # pragma: no cover - exercised only without the extra installed
    raise ImportError(
        "distillguard's LiteLLM guardrail needs litellm: pip install 'distillguard[litellm]'"
    ) from exc

from distillguard.respond.client import DecideClient
from distillguard.respond.decision import RequestError, normalise_messages
from distillguard.respond.reasoning import REASONING_FIELDS, summarise

METADATA_KEY = "distillguard"


def decide_body(data: dict[str, Any], user: Any) -> dict[str, Any] | None:
    """The decision request for one LiteLLM call, or None when it has no chat messages."""
    try:
        messages = normalise_messages(data.get("messages"))
    except RequestError:
        return None
    key = getattr(user, "api_key", None) or getattr(user, "token", None)
    account = (
        getattr(user, "org_id", None)
        or getattr(user, "team_id", None)
        or getattr(user, "user_id", None)
        or (f"acct_{key[:16]}" if key else None)
    )
    if not account:
        return None
    body: dict[str, Any] = {"account_id": str(account), "messages": messages}
    if key:
        body["api_key_id"] = f"key_{str(key)[:16]}"
    if isinstance(data.get("model"), str):
        body["model"] = data["model"]
    if isinstance(data.get("reasoning_effort"), str):
        body["params"] = {"reasoning_effort": data["reasoning_effort"]}
    return body


def _set_reasoning(obj: Any, mode: str) -> None:
    for f in REASONING_FIELDS:
        value = obj.get(f) if isinstance(obj, dict) else getattr(obj, f, None)
        if not isinstance(value, str):
            continue
        new = None if mode == "withhold" else summarise(value)
        if isinstance(obj, dict):
            obj[f] = new
        else:
            setattr(obj, f, new)


class DistillGuardGuardrail(CustomGuardrail):
    """Pre-call decisions and post-call reasoning shaping for the LiteLLM proxy."""

    def __init__(self, api_base: str | None = None, timeout_ms: float | None = None, **kwargs: Any) -> None:
        base = api_base or os.environ.get("DISTILLGUARD_API_BASE", "http://127.0.0.1:8787")
        timeout = timeout_ms or float(os.environ.get("DISTILLGUARD_TIMEOUT_MS", "50"))
        self.client = DecideClient(base, timeout / 1000.0)
        super().__init__(**kwargs)

    async def async_pre_call_hook(
        self, user_api_key_dict: Any, cache: Any, data: dict, call_type: Any
    ) -> Any:
        """Ask the decision service; refuse denied calls, remember shaping for the reply."""
        body = decide_body(data, user_api_key_dict)
        if body is None:
            return data
        answer = await self.client.decide(body)
        if answer["decision"] == "deny":
            raise HTTPException(
                status_code=int(answer.get("status") or 403),
                detail={"error": "refused by distillguard policy", "reasons": answer.get("reasons", [])},
                headers={k: str(v) for k, v in (answer.get("headers") or {}).items()},
            )
        if answer.get("reasoning", "full") != "full":
            data.setdefault("metadata", {})[METADATA_KEY] = {"reasoning": answer["reasoning"]}
        return data

    async def async_post_call_success_hook(self, data: dict, user_api_key_dict: Any, response: Any) -> Any:
        """Withhold or summarise the reasoning of a whole reply."""
        mode = ((data.get("metadata") or {}).get(METADATA_KEY) or {}).get("reasoning", "full")
        if mode != "full":
            for choice in getattr(response, "choices", None) or []:
                message = getattr(choice, "message", None)
                if message is not None:
                    _set_reasoning(message, mode)
        return response

    async def async_post_call_streaming_iterator_hook(
        self, user_api_key_dict: Any, response: Any, request_data: dict
    ) -> AsyncGenerator[Any, None]:
        """Withhold reasoning deltas of a streamed reply."""
        mode = ((request_data.get("metadata") or {}).get(METADATA_KEY) or {}).get("reasoning", "full")
        async for chunk in response:
            if mode != "full":
                for choice in getattr(chunk, "choices", None) or []:
                    delta = getattr(choice, "delta", None)
                    if delta is not None:
                        _set_reasoning(delta, "withhold")
            yield chunk
