"""``poisoning``: instructions hidden in what a server *lists* for the model.

Tool, prompt and resource definitions (every string and every object key of each listed item:
names, titles, descriptions, schema strings, schema property names) and server instructions
(``initialize``/``server/discover``) reach the model as trusted context before any call is
made, so this is where tool poisoning, shadowing and preference manipulation live. Default
action: REWRITE the list without the poisoned items (the rest of the server keeps working;
calls to a removed tool are unknown to the agent), and drop poisoned server instructions.
Policy may choose ``deny`` (fail the whole response) or ``flag``.
Everything else in these responses (a listed entry that is not an object, ``nextCursor``,
``_meta`` …) is content, scanned by ``injection`` (``ztmcp.detectors.mcp.definition_paths``).
A definition too large to scan whole denies the response (``limits.scan``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Final

from ztmcp.checks.base import Context, Severity, Verdict
from ztmcp.checks.config import Configurable, OnFinding, ladder
from ztmcp.checks.limits import limit_verdict
from ztmcp.detectors import scan_content, scan_definition
from ztmcp.detectors.findings import BLOCKING, RANK, Finding
from ztmcp.detectors.mcp import HANDSHAKES, LISTS, ScanLimit
from ztmcp.jsonrpc import Direction, Kind, Message

ACTIONS: Final = (OnFinding.REWRITE, OnFinding.DENY, OnFinding.FLAG)  # the first: default
_SAFE_NAME: Final = re.compile(r"[^A-Za-z0-9_.:/-]")


def safe_name(value: Any) -> str:
    """An item name fit for a reason or an audit record: printable identifier chars, short."""
    return _SAFE_NAME.sub("?", str(value))[:64]


@dataclass(frozen=True, slots=True)
class PoisoningConfig:
    """``[poisoning]``: findings from ``threshold`` up get ``action``."""

    KEYS: ClassVar[frozenset[str]] = frozenset({"threshold", "action"})
    threshold: Severity = BLOCKING
    action: OnFinding = ACTIONS[0]

    def __post_init__(self) -> None:
        if self.action not in ACTIONS:
            raise ValueError(f"poisoning action must be one of {', '.join(ACTIONS)}")


class PoisoningCheck(Configurable[PoisoningConfig]):
    name = "poisoning"

    def __init__(self, threshold: Severity = BLOCKING, action: str = ACTIONS[0]) -> None:
        self.config = PoisoningConfig(threshold, OnFinding(action))
        self.threshold = threshold
        self.action = self.config.action

    @classmethod
    def from_config(cls, config: PoisoningConfig) -> PoisoningCheck:
        return cls(config.threshold, config.action)

    def _hits(self, findings: list[Finding]) -> list[Finding]:
        return [f for f in findings if RANK[f.severity] >= RANK[self.threshold]]

    def check(self, msg: Message, ctx: Context) -> Verdict | None:
        if msg.direction is not Direction.TO_CLIENT or msg.kind is not Kind.RESPONSE:
            return None
        method = ctx.request.method if ctx.request is not None else None
        result = msg.body.get("result")
        if not isinstance(result, Mapping):
            return None
        try:
            if method is not None and method in LISTS:
                return self._list(msg, result, LISTS[method])
            if method in HANDSHAKES:
                return self._instructions(msg, result)
        except ScanLimit as exc:
            return limit_verdict(self.name, exc)
        return None

    def _list(self, msg: Message, result: Mapping[str, Any], key: str) -> Verdict | None:
        items = result.get(key)
        if not isinstance(items, list):
            return None
        kept: list[Any] = []
        removed: list[tuple[str, list[Finding]]] = []
        for item in items:
            hits = self._hits(scan_definition(item)) if isinstance(item, Mapping) else []
            if hits:
                removed.append((safe_name(item.get("name", item.get("uri", "?"))), hits))
            else:
                kept.append(item)
        if not removed:
            return None
        names = ", ".join(n for n, _ in removed[:10])
        rules = sorted({f.rule for _, hits in removed for f in hits})
        severity = max((f.severity for _, h in removed for f in h), key=lambda s: RANK[s])
        noun = key[:-1] if len(removed) == 1 else key
        reason = f"{len(removed)} {noun} ({names}) with instructions aimed at the model"
        evidence = "; ".join(f"{n}: {','.join(sorted({f.rule for f in h}))}" for n, h in removed)
        hint = "review the server's definitions; pin a reviewed manifest to accept them"
        body = dict(msg.body)
        body["result"] = {**result, key: kept}
        step = ladder(severity, self.threshold, self.action, lambda: body)
        assert step is not None  # every finding here is at or above the threshold
        return step.verdict(
            self.name,
            rules[0],
            reason,
            severity,
            evidence=evidence,
            hint=hint,
            rewritten=f"removed {reason}",
        )

    def _instructions(self, msg: Message, result: Mapping[str, Any]) -> Verdict | None:
        text = result.get("instructions")
        if not isinstance(text, str) or not text:
            return None
        hits = self._hits(scan_definition({"instructions": text}) + scan_content_unicode(text))
        if not hits:
            return None
        rule = hits[0].rule
        reason = "the server's instructions carry directives aimed at the model"
        severity = max((f.severity for f in hits), key=lambda s: RANK[s])
        evidence = ",".join(sorted({f.rule for f in hits}))
        body = dict(msg.body)
        body["result"] = {k: v for k, v in result.items() if k != "instructions"}
        step = ladder(severity, self.threshold, self.action, lambda: body)
        assert step is not None  # every finding here is at or above the threshold
        return step.verdict(
            self.name, rule, reason, severity, evidence=evidence, rewritten=f"removed {reason}"
        )


def scan_content_unicode(text: str) -> list[Finding]:
    """Hidden-content findings only (server instructions are prose, like a description)."""
    return [f for f in scan_content(text) if f.rule.startswith("unicode.")]
