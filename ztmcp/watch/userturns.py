"""The person's own words, from the LLM requests ``ztmcp watch`` forwards, into the agent run.

The flow check's ``[flow] directed = "named"`` vouches a destination the user named in their
own turn, but a ``ztmcp run`` process never sees user turns. ``ztmcp watch`` does: every LLM
request carries the conversation. ``user_texts`` is the pure part: per wire, the text the
*person* wrote (role ``user`` text only; never a tool result, a system prompt or an assistant
turn, even when the provider carries tool results in a user-role message). ``UserTurns`` is the
edge: each text not yet recorded in the agent's current run is appended with
``SharedRun.user`` (keyed fingerprints in ``state.db``, never plaintext), under the agent name
``ztmcp run`` will use (``behaviour.edge.run_agent`` over the identity watch exports).

A conversation resends its whole history every turn: a text is recorded once per run, by a
digest of (run id, text) kept in memory (the run learns a set of fingerprints, so a repeat
adds nothing; the digests are bounded, and one that fell out is only recorded again). A run
that cannot be written raises ``StateError``: the addon refuses the request (fail closed).
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Final

from ztmcp.behaviour.store import RunStore, SharedRun

MAX_REMEMBERED: Final = 4096  # digests of recorded user texts kept to skip repeats


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _parts(content: Any, kinds: frozenset[str | None]) -> Iterator[str]:
    """A message content's text: the string itself, or its parts whose ``type`` is in ``kinds``
    and that carry a string ``text`` (a tool result part never does in these kinds)."""
    if isinstance(content, str):
        yield content
        return
    for part in _list(content):
        if isinstance(part, str):
            yield part
        elif isinstance(part, dict) and part.get("type") in kinds:
            text = part.get("text")
            if isinstance(text, str):
                yield text


_CHAT_PARTS: Final = frozenset({"text"})
_RESPONSES_PARTS: Final = frozenset({"input_text"})
_ANTHROPIC_PARTS: Final = frozenset({"text"})


def _chat(body: dict[str, Any]) -> Iterator[str]:
    for message in _list(body.get("messages")):
        if _dict(message).get("role") == "user":
            yield from _parts(message.get("content"), _CHAT_PARTS)


def _responses(body: dict[str, Any]) -> Iterator[str]:
    given = body.get("input")
    if isinstance(given, str):  # the short form: the whole input is the user's turn
        yield given
        return
    for item in _list(given):
        item = _dict(item)
        if item.get("role") == "user" and item.get("type", "message") == "message":
            yield from _parts(item.get("content"), _RESPONSES_PARTS)


def _anthropic(body: dict[str, Any]) -> Iterator[str]:
    for message in _list(body.get("messages")):
        if _dict(message).get("role") == "user":
            yield from _parts(message.get("content"), _ANTHROPIC_PARTS)


def _gemini(body: dict[str, Any]) -> Iterator[str]:
    # A content without a role is the user's (the API's default for a one-turn request).
    for content in _list(body.get("contents")):
        content = _dict(content)
        if content.get("role", "user") == "user":
            for part in _list(content.get("parts")):
                text = _dict(part).get("text")
                if isinstance(text, str):
                    yield text


def _bedrock(body: dict[str, Any]) -> Iterator[str]:
    for message in _list(body.get("messages")):
        if _dict(message).get("role") == "user":
            for block in _list(message.get("content")):
                text = _dict(block).get("text")
                if isinstance(text, str):
                    yield text


# Wire name (``providers.Wire.name``) -> the reader of the person's turns.
READERS: Final[dict[str, Callable[[dict[str, Any]], Iterator[str]]]] = {
    "openai.chat": _chat,
    "openai.responses": _responses,
    "anthropic.messages": _anthropic,
    "gemini": _gemini,
    "bedrock.converse": _bedrock,
}


def user_texts(wire: str, body: dict[str, Any]) -> tuple[str, ...]:
    """The non-empty texts the person wrote in a request of ``wire``, in order."""
    reader = READERS.get(wire)
    if reader is None:
        return ()
    return tuple(text for text in reader(body) if text.strip())


class UserTurns:
    """The agent's run as ``ztmcp watch`` writes to it (see the module docstring)."""

    def __init__(self, agent: str, path: Path | None = None) -> None:
        self.agent = agent
        self.path = path  # the state database (default: $ZTMCP_HOME/state.db)
        self._shared: SharedRun | None = None
        self._recorded: OrderedDict[bytes, None] = OrderedDict()
        self.written = 0  # user texts appended to a run

    def record(self, texts: tuple[str, ...], now: float) -> int:
        """Append each text the current run has not got yet; how many were appended. Raises
        ``StateError`` when the run cannot be read or written."""
        if not texts:
            return 0
        if self._shared is None:  # opened on the proxy's thread, where every call comes
            self._shared = SharedRun(RunStore(self.path), self.agent)
        shared = self._shared
        run_id = shared.sync(now).run_id
        appended = 0
        for text in texts:
            key = hashlib.sha256(f"{run_id}\0{text}".encode(errors="surrogatepass")).digest()
            if key in self._recorded:
                self._recorded.move_to_end(key)
                continue
            shared.user(text, now)
            self._remember(key)
            appended += 1
        self.written += appended
        return appended

    def _remember(self, key: bytes) -> None:
        self._recorded[key] = None
        while len(self._recorded) > MAX_REMEMBERED:
            self._recorded.popitem(last=False)

    def close(self) -> None:
        if self._shared is not None:
            self._shared.store.close()
            self._shared = None
