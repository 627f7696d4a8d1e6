"""What a configurable check declares, and the action ladder the detection checks share.

A check's policy table (``[injection]`` …) becomes a frozen config dataclass once, at start
(``ztmcp.policy`` parses and validates it in one pass); the check is then built from that
config with ``from_config``. Checks never read TOML.

The ladder: a finding at or above the threshold gets the configured ``OnFinding``; ``flag``
forwards and records it, ``redact``/``rewrite`` forward a replacement body when the check can
make one that leaves nothing behind, and deny otherwise; ``deny`` never forwards.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar, Protocol, Self, runtime_checkable

from ztmcp.checks.base import Action, Check, Severity, Verdict
from ztmcp.detectors.findings import RANK
from ztmcp.jsonrpc import DENIED, Direction


class OnFinding(StrEnum):
    """What policy asks a detection check to do with a finding at or above its threshold."""

    FLAG = "flag"  # forward unchanged, record the finding
    REDACT = "redact"  # forward with the offending strings replaced; else deny
    REWRITE = "rewrite"  # forward without the offending items (listings); else deny
    DENY = "deny"  # never forward


@dataclass(frozen=True, slots=True)
class Step:
    """The ladder's answer: the verdict action, and the replacement body for a REWRITE."""

    action: Action
    replacement: Mapping[str, Any] | None = None

    def verdict(
        self,
        check: str,
        rule: str,
        reason: str,
        severity: Severity,
        *,
        evidence: str | None = None,
        hint: str | None = None,
        deny_hint: str | None = None,
        rewritten: str | None = None,
        code: int = DENIED,
    ) -> Verdict:
        """The verdict of this step: ``hint`` on every action, ``deny_hint`` (when given) on a
        denial instead; ``rewritten`` is the reason of a REWRITE (default ``redacted: …``)."""
        if self.action is Action.REWRITE:
            reason = rewritten if rewritten is not None else f"redacted: {reason}"
        elif self.action is Action.DENY and deny_hint is not None:
            hint = deny_hint
        return Verdict(
            self.action,
            check,
            rule,
            reason,
            severity,
            replacement=self.replacement,
            evidence=evidence,
            hint=hint,
            code=code,
        )


def ladder(
    severity: Severity,
    threshold: Severity,
    on: OnFinding,
    rewrite: Callable[[], Mapping[str, Any] | None] = lambda: None,
) -> Step | None:
    """The one action ladder: None below ``threshold``; else ``on``, where a ``redact`` or
    ``rewrite`` that ``rewrite()`` cannot make (None) is a denial. ``rewrite`` runs only when
    its body is needed."""
    if RANK[severity] < RANK[threshold]:
        return None
    if on is OnFinding.FLAG:
        return Step(Action.FLAG)
    if on is not OnFinding.DENY:
        body = rewrite()
        if body is not None:
            return Step(Action.REWRITE, body)
    return Step(Action.DENY)


@dataclass(frozen=True, slots=True)
class Directed:
    """An ``OnFinding`` per direction (``secrets``: outbound and inbound differ)."""

    to_server: OnFinding
    to_client: OnFinding

    def __getitem__(self, direction: Direction) -> OnFinding:
        return self.to_server if direction is Direction.TO_SERVER else self.to_client


class CheckConfig(Protocol):
    """A check's policy table as a frozen dataclass; ``KEYS`` are the table's TOML keys."""

    KEYS: ClassVar[frozenset[str]]


@runtime_checkable
class Configurable[C: CheckConfig](Check, Protocol):
    """A check built from its config. Checks subclass it explicitly, so ``start_notice``'s
    default applies to every one of them."""

    __slots__ = ()

    @classmethod
    def from_config(cls, config: C) -> Self: ...

    def start_notice(self, server: str) -> str | None:
        """One line to show when ztmcp starts for ``server`` (None: nothing to say)."""
        return None
