"""``injection``: instructions smuggled into content the model reads as data.

Every string and every object key of every server→client message (responses to any method,
JSON-RPC errors, server requests such as sampling and elicitation, notifications: logs,
progress …) is scanned with the content profile of ``ztmcp.detectors.instructions`` plus
hidden-content rules, except the definitions the ``poisoning`` check scans with the
description profile (listed tools, prompts, resources, templates; handshake instructions):
see ``ztmcp.detectors.mcp``. Base64 text blobs are decoded and scanned; pictures and sounds
are not text. The strings are scanned as one text (newline-separated: a model reads them
together); a message too large to scan whole is denied (``limits.scan``).

Default action: DENY (the agent gets a failed tool result, never the injected text). Policy
may choose ``redact`` (REWRITE: each offending string value is replaced by a short notice,
the rest is forwarded) or ``flag``. ``redact`` still denies when the instructions sit in an
object key or an envelope member (``jsonrpc``, ``method``, ``id``: rewriting those would
change what the message means), when they span several strings that hold nothing alone, or
past ``MAX_REDACT_STRINGS`` strings in the message.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Final

from ztmcp.checks.base import Context, Severity, Verdict
from ztmcp.checks.config import Configurable, OnFinding, ladder
from ztmcp.checks.limits import limit_verdict
from ztmcp.detectors import scan_content
from ztmcp.detectors.findings import BLOCKING, RANK, Finding
from ztmcp.detectors.mcp import (
    MAX_REDACT_STRINGS,
    Path,
    ScanLimit,
    Text,
    definition_paths,
    message_texts,
    outside,
    replace_strings,
)
from ztmcp.jsonrpc import Direction, Kind, Message

ACTIONS: Final = (OnFinding.DENY, OnFinding.REDACT, OnFinding.FLAG)  # the first is the default
NOTICE: Final = "[ztmcp: content withheld: it contained instructions aimed at the AI model]"


@dataclass(frozen=True, slots=True)
class InjectionConfig:
    """``[injection]``: findings from ``threshold`` up get ``action``."""

    KEYS: ClassVar[frozenset[str]] = frozenset({"threshold", "action"})
    threshold: Severity = BLOCKING
    action: OnFinding = ACTIONS[0]

    def __post_init__(self) -> None:
        if self.action not in ACTIONS:
            raise ValueError(f"injection action must be one of {', '.join(ACTIONS)}")


class InjectionCheck(Configurable[InjectionConfig]):
    name = "injection"

    def __init__(self, threshold: Severity = BLOCKING, action: str = ACTIONS[0]) -> None:
        self.config = InjectionConfig(threshold, OnFinding(action))
        self.threshold = threshold
        self.action = self.config.action

    @classmethod
    def from_config(cls, config: InjectionConfig) -> InjectionCheck:
        return cls(config.threshold, config.action)

    def check(self, msg: Message, ctx: Context) -> Verdict | None:
        if msg.direction is not Direction.TO_CLIENT:
            return None
        method = ctx.request.method if ctx.request is not None else None
        try:
            texts = outside(message_texts(msg.body), definition_paths(method, msg.body))
        except ScanLimit as exc:
            return limit_verdict(self.name, exc)
        found = self._hits(scan_content("\n".join(t.text for t in texts)))
        if not found:
            return None
        hits: dict[int, list[Finding]] = {}
        if self.action is OnFinding.REDACT and len(texts) <= MAX_REDACT_STRINGS:
            # Which strings: each one on its own (the joined text's offsets are those of the
            # revealed text, which hidden characters shift).
            for i, t in enumerate(texts):
                alone = self._hits(scan_content(t.text))
                if alone:
                    hits[i] = alone
        return self._verdict(msg, texts, hits, found)

    def _redactable(self, texts: list[Text], hits: dict[int, list[Finding]]) -> bool:
        """Whether replacing the hit values leaves nothing: no hit in a key or an envelope
        member, and no finding left in what the model would read (one made of several
        strings that hold nothing alone)."""
        if not hits or any(texts[i].key or len(texts[i].path) <= 1 for i in hits):
            return False
        rest = "\n".join(NOTICE if i in hits else t.text for i, t in enumerate(texts))
        return not self._hits(scan_content(rest))

    def _hits(self, findings: list[Finding]) -> list[Finding]:
        return [f for f in findings if RANK[f.severity] >= RANK[self.threshold]]

    def _verdict(
        self, msg: Message, texts: list[Text], hits: dict[int, list[Finding]], found: list[Finding]
    ) -> Verdict:
        findings = found + [f for fs in hits.values() for f in fs]
        rules = sorted({f.rule for f in findings})
        severity = max((f.severity for f in findings), key=lambda s: RANK[s])
        where = {Kind.REQUEST: "a server request", Kind.NOTIFICATION: "a server notification"}.get(
            msg.kind, "the error" if "error" in msg.body else "the result"
        )
        reason = f"{where} contains instructions aimed at the AI model (prompt injection)"
        evidence = ",".join(rules) + (f" in {len(hits)} field(s)" if hits else "")
        hint = 'if this source is trusted, set [injection] action = "flag" in ztmcp.toml'

        def redacted() -> dict[str, Any] | None:
            if not self._redactable(texts, hits):
                return None
            edits: dict[Path, str] = {texts[i].path: texts[i].raw(NOTICE) for i in hits}
            body: dict[str, Any] = replace_strings(msg.body, edits)
            return body

        step = ladder(severity, self.threshold, self.action, redacted)
        assert step is not None  # every finding here is at or above the threshold
        return step.verdict(
            self.name, rules[0], reason, severity, evidence=evidence, deny_hint=hint
        )
