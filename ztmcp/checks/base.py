"""The check vocabulary: a pure function of a message and its context, returning a verdict.

Checks never write state and never know about modes: the Session folds their verdicts and
applies monitor mode once. A check that raises is treated as a DENY by the Session.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from ztmcp.jsonrpc import DENIED, Message
from ztmcp.severity import Severity  # re-exported: the leaf module below detectors

__all__ = ["Action", "Check", "Context", "IdentityMemo", "Severity", "Verdict"]


class Action(StrEnum):
    FLAG = "flag"  # forward unchanged, record the finding
    REWRITE = "rewrite"  # forward a replacement body (redaction, list filtering)
    DENY = "deny"  # never forward; answer the sender


@dataclass(frozen=True, slots=True)
class Verdict:
    """What one check concluded. ``reason`` is shown to the agent: it never quotes evidence."""

    action: Action
    check: str
    rule: str
    reason: str
    severity: Severity = Severity.HIGH
    replacement: Mapping[str, Any] | None = None  # the new body, for REWRITE
    evidence: str | None = None  # redacted, for the audit log only
    hint: str | None = None  # what the user can do about it
    code: int = DENIED  # the JSON-RPC error code when a denial is answered with an error

    def __post_init__(self) -> None:
        if (self.action is Action.REWRITE) != (self.replacement is not None):
            raise ValueError("a REWRITE verdict carries a replacement, and only a REWRITE does")


_set_field = object.__setattr__  # how a frozen dataclass sets its own fields


@dataclass(frozen=True, slots=True, init=False)
class Context:
    """What a check may read besides the message itself.

    (The constructor is written out, as ``Message``'s: one per frame, it costs about half the
    generated one; the same fields, equality, repr and ``dataclasses.replace``.)
    """

    server: str
    now: float
    request: Message | None = None  # for a response: the request it answers
    extra: Mapping[str, Any] = field(default_factory=dict)  # state later checks need (pins …)

    def __init__(
        self,
        server: str,
        now: float,
        request: Message | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        _set_field(self, "server", server)
        _set_field(self, "now", now)
        _set_field(self, "request", request)
        _set_field(self, "extra", {} if extra is None else extra)


class Check(Protocol):
    """One validation step. ``name`` appears in policy, verdicts and the audit log."""

    name: str

    def check(self, msg: Message, ctx: Context) -> Verdict | None: ...


class IdentityMemo[V]:
    """A value derived from an object, remembered while the very same object comes back.

    The listed tool definitions in a session's ``ToolSurface`` are replaced on each listing,
    never changed in place, and every ``tools/call`` looks its tool up there: keyed by
    identity (the object is kept alive, so its id cannot be reused), a call does not
    re-serialise and re-hash a definition that was already seen. Bounded; cleared when full.
    """

    def __init__(self, limit: int = 4096) -> None:
        self._items: dict[int, tuple[object, V]] = {}
        self._limit = limit

    def get(self, obj: object, compute: Callable[[], V]) -> V:
        hit = self._items.get(id(obj))
        if hit is not None and hit[0] is obj:
            return hit[1]
        value = compute()
        if len(self._items) >= self._limit:
            self._items.clear()
        self._items[id(obj)] = (obj, value)
        return value
