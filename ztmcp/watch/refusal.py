"""A refused LLM call answered in the provider's own error shape, so the SDK raises cleanly.

Status 400 everywhere: SDKs retry 408, 409, 429 and 5xx, and a policy refusal must not be
retried. The message says it was ztmcp and why, never the value that caused it.
"""

from __future__ import annotations

import json
from typing import Any, Final

STATUS: Final = 400


def body(shape: str, message: str) -> tuple[dict[str, Any], dict[str, str]]:
    """The JSON error body and extra headers for ``shape`` (a ``Wire.error_shape``)."""
    if shape == "anthropic":
        return {
            "type": "error",
            "error": {"type": "invalid_request_error", "message": message},
        }, {}
    if shape == "gemini":
        return {"error": {"code": STATUS, "message": message, "status": "INVALID_ARGUMENT"}}, {}
    if shape == "bedrock":
        return {"message": message}, {"x-amzn-ErrorType": "ValidationException"}
    return {
        "error": {
            "message": message,
            "type": "invalid_request_error",
            "param": None,
            "code": "ztmcp_policy",
        }
    }, {}


def response(shape: str, message: str) -> Any:
    from mitmproxy import http

    payload, headers = body(shape, message)
    return http.Response.make(
        STATUS,
        json.dumps(payload).encode(),
        {"Content-Type": "application/json", "x-ztmcp-refused": "policy", **headers},
    )
