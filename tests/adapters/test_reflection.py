"""A brokered credential is cut from what the upstream sends back in every form an agent could
decode: property-based over random secrets and every encoding, then through the real relay
(split across SSE events and chunks)."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from urllib.parse import quote

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.adapters.test_mitm import call, make_addon, post, respond, through
from ztmcp.adapters.reflection import REDACTED_TEXT, Reflections

SECRETS = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~+/=",
    min_size=12,
    max_size=48,
)


def _unicode_escaped(secret: str) -> str:
    return "".join(f"\\u{ord(c):04x}" for c in secret)


def _forms(secret: str, prefix: bytes) -> dict[str, str]:
    raw = prefix + secret.encode()
    std = base64.b64encode(raw).decode()
    return {
        "as is": f"token {secret} end",
        "percent lower": re.sub("%[0-9A-F]{2}", lambda m: m.group().lower(), quote(secret)),
        "percent upper": quote(secret, safe=""),
        "base64": std,
        "base64 unpadded": std.rstrip("="),
        "base64 url-safe": base64.urlsafe_b64encode(raw).decode().rstrip("="),
        "base64 wrapped": base64.encodebytes(raw * 3).decode(),
        "hex lower": raw.hex(),
        "hex upper": raw.hex().upper(),
        "hex mixed": "".join(c.upper() if i % 2 else c for i, c in enumerate(raw.hex())),
        "html": "".join(f"&#{ord(c)};" for c in secret),
    }


@settings(max_examples=200, deadline=None)
@given(secret=SECRETS, prefix=st.binary(max_size=5))
def test_every_decodable_form_of_a_secret_is_found(secret: str, prefix: bytes) -> None:
    reflections = Reflections([f"Bearer {secret}"])
    for name, text in _forms(secret, prefix).items():
        assert reflections.hidden_in(text), name


@settings(max_examples=200, deadline=None)
@given(secret=SECRETS, cut=st.integers(min_value=0, max_value=48))
def test_each_half_of_a_split_secret_is_found(secret: str, cut: int) -> None:
    cut = max(len(secret) // 2, min(cut, len(secret)))  # the longer part first or second
    reflections = Reflections([secret])
    longer = secret[:cut] if cut >= len(secret) - cut else secret[cut:]
    assert reflections.hidden_in(f"...{longer}")


def test_ordinary_text_is_left_alone() -> None:
    reflections = Reflections(["Bearer sk-live-0123456789abcdef"])
    for text in ["Bearer something else", "the weather is fine", "aGVsbG8gd29ybGQ=", "deadbeef"]:
        assert not reflections.hidden_in(text), text


def test_strings_and_keys_are_replaced_whole() -> None:
    secret = "sk-live-0123456789abcdef"
    reflections = Reflections([secret])
    value = {"content": [{"text": base64.b64encode(secret.encode()).decode()}], secret: 1}
    clean, count = reflections.redact(value)
    assert count == 2 and clean["content"][0]["text"] == REDACTED_TEXT
    assert secret not in json.dumps(clean)


TOKEN = "sk-test-0123456789abcdefXYZ"


def _sse(text: str, msg_id: int = 3) -> bytes:
    answer = {"jsonrpc": "2.0", "id": msg_id, "result": {"content": [{"type": "text"}]}}
    answer["result"]["content"][0]["text"] = text
    return b"event: message\ndata: " + json.dumps(answer).encode() + b"\n\n"


def test_a_secret_split_across_two_events_and_chunks_is_cut(tmp_path: Path) -> None:
    addon, audit = make_addon(
        tmp_path, upstream_headers={"authorization": f"Bearer {TOKEN}"}, secrets=[TOKEN]
    )
    flow = through(addon, post(call("echo", {}, 3)))
    note = {"jsonrpc": "2.0", "method": "notifications/message", "params": {"data": ""}}
    note["params"]["data"] = f"first half {TOKEN[:14]}"
    first = b"data: " + json.dumps(note).encode() + b"\n\n"
    second = _sse(f"{TOKEN[14:]} second half".replace("\\", ""))
    stream = first + second
    chunks = [stream[i : i + 7] for i in range(0, len(stream), 7)]
    body = b"".join(respond(addon, flow, "text/event-stream", chunks))
    assert TOKEN[:14].encode() not in body and TOKEN[14:].encode() not in body
    assert body.count(REDACTED_TEXT.encode()) == 2
    rules = [r.get("rule") for r in audit.records()]
    assert "credentials.reflected" in rules


def test_a_secret_json_escaped_char_by_char_is_cut(tmp_path: Path) -> None:
    addon, _ = make_addon(tmp_path, upstream_headers={"authorization": f"Bearer {TOKEN}"})
    flow = through(addon, post(call("echo", {}, 3)))
    event = _sse("x").replace(b'"x"', b'"' + _unicode_escaped(TOKEN).encode() + b'"')
    body = b"".join(respond(addon, flow, "text/event-stream", [event]))
    assert json.loads(body.split(b"data: ")[1])["result"]["content"][0]["text"] == REDACTED_TEXT
