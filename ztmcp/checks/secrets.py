"""``secrets``: credentials and personal data crossing the proxy, in every message.

Every string and every object key of every message is scanned in its direction (whatever the
method: calls, ``resources/read`` URIs, ``prompts/get`` and completion arguments, ``_meta``,
notifications, and the client's answers to sampling, elicitation and roots requests; see
``ztmcp.detectors.mcp`` for base64 blobs). A message too large to scan whole is denied
(``limits.scan``).

Outbound (agent → server) the message is scanned as ``key: value`` lines
(``detectors.secret_line``), so a keyword rule sees ``{"password": "…"}``; a secret there is
about to leave the machine: DENY by default (``redact`` or ``flag`` by policy). Inbound
(server → agent) the strings are scanned as one newline-joined text and each secret span is
replaced by ``[REDACTED:<rule>]`` in its string (REWRITE), so the model never holds a
credential a tool happened to print; policy may choose ``deny`` or ``flag``.

Keys are never rewritten: a secret in an object key (or one that only a key's context
reveals and no single value holds) is DENIED under ``redact`` too, since renaming a member
changes what the message means. Reasons name the rule, never the value; the audit evidence
carries masked excerpts only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Final

from ztmcp.checks.base import Context, Severity, Verdict
from ztmcp.checks.config import Configurable, Directed, OnFinding, ladder
from ztmcp.checks.limits import limit_verdict
from ztmcp.detectors import secret_line
from ztmcp.detectors import secrets as detector
from ztmcp.detectors.findings import BLOCKING, RANK, Finding, mask
from ztmcp.detectors.mcp import (
    MAX_REDACT_STRINGS,
    Path,
    ScanLimit,
    Text,
    locate,
    message_texts,
    replace_strings,
)
from ztmcp.jsonrpc import Direction, Message

# The first of each is the default.
OUTBOUND_ACTIONS: Final = (OnFinding.DENY, OnFinding.REDACT, OnFinding.FLAG)
INBOUND_ACTIONS: Final = (OnFinding.REDACT, OnFinding.DENY, OnFinding.FLAG)


def redact(text: str, findings: list[Finding]) -> str:
    """``text`` with each finding's span replaced by a marker naming the rule."""
    out: list[str] = []
    pos = 0
    for f in sorted(findings, key=lambda f: f.start):
        if f.start < pos:
            continue
        out.append(text[pos : f.start])
        out.append(f"[REDACTED:{f.rule}]")
        pos = f.end
    out.append(text[pos:])
    return "".join(out)


@dataclass(frozen=True, slots=True)
class SecretsConfig:
    """``[secrets]``: findings from ``threshold`` up get ``outbound`` (agent → server) or
    ``inbound`` (server → agent)."""

    KEYS: ClassVar[frozenset[str]] = frozenset({"threshold", "outbound", "inbound"})
    threshold: Severity = BLOCKING
    outbound: OnFinding = OUTBOUND_ACTIONS[0]
    inbound: OnFinding = INBOUND_ACTIONS[0]

    def __post_init__(self) -> None:
        if self.outbound not in OUTBOUND_ACTIONS:
            raise ValueError(f"secrets outbound must be one of {', '.join(OUTBOUND_ACTIONS)}")
        if self.inbound not in INBOUND_ACTIONS:
            raise ValueError(f"secrets inbound must be one of {', '.join(INBOUND_ACTIONS)}")

    @property
    def actions(self) -> Directed:
        return Directed(to_server=self.outbound, to_client=self.inbound)


class SecretsCheck(Configurable[SecretsConfig]):
    name = "secrets"

    def __init__(
        self,
        threshold: Severity = BLOCKING,
        outbound: str = OUTBOUND_ACTIONS[0],
        inbound: str = INBOUND_ACTIONS[0],
    ) -> None:
        self.config = SecretsConfig(threshold, OnFinding(outbound), OnFinding(inbound))
        self.threshold = threshold
        self.actions = self.config.actions
        self.outbound = self.config.outbound
        self.inbound = self.config.inbound

    @classmethod
    def from_config(cls, config: SecretsConfig) -> SecretsCheck:
        return cls(config.threshold, config.outbound, config.inbound)

    def _hits(self, findings: list[Finding]) -> list[Finding]:
        return [f for f in findings if RANK[f.severity] >= RANK[self.threshold]]

    def check(self, msg: Message, ctx: Context) -> Verdict | None:
        try:
            texts = message_texts(msg.body)
        except ScanLimit as exc:
            return limit_verdict(self.name, exc)
        if not texts:  # no text, no secret (``detector.scan("") == []``, tested): and a ping
            return None  # imports no detector
        if msg.direction is Direction.TO_SERVER:
            return self._outbound(msg, texts)
        return self._inbound(msg, texts)

    def _outbound(self, msg: Message, texts: list[Text]) -> Verdict | None:
        hits = self._hits(detector.scan("\n".join(secret_line(t) for t in texts)))
        if not hits:
            return None
        rules = sorted({f.rule for f in hits})
        severity = max((f.severity for f in hits), key=lambda s: RANK[s])
        what = "call's arguments contain" if msg.method == "tools/call" else "message contains"
        reason = f"the {what} a credential or personal data ({', '.join(rules)})"
        evidence = ",".join(rules)
        hint = "remove the secret from the request, or pass it through the server's own config"
        step = ladder(
            severity,
            self.threshold,
            self.actions[msg.direction],
            lambda: self._redacted(msg, texts),
        )
        assert step is not None  # every finding here is at or above the threshold
        return step.verdict(
            self.name, rules[0], reason, severity, evidence=evidence, deny_hint=hint
        )

    def _redacted(self, msg: Message, texts: list[Text]) -> dict[str, Any] | None:
        """The outbound message with each secret value redacted; None when that cannot be
        done: a secret in a key or an envelope member, or one that only the context of
        several strings shows (what is left is scanned again, as the server would get it)."""
        if len(texts) > MAX_REDACT_STRINGS:
            return None  # each string is scanned alone below: bounded work, else a denial
        lines: list[str] = []
        edits: dict[Path, str] = {}
        for t in texts:
            found = self._hits(detector.scan(t.text))
            if found and not _rewritable(t):
                return None
            if found:
                t = t._replace(text=redact(t.text, found))
                edits[t.path] = t.raw(t.text)
            lines.append(secret_line(t))
        if not edits or self._hits(detector.scan("\n".join(lines))):
            return None
        return replace_strings(msg.body, edits)

    def _inbound(self, msg: Message, texts: list[Text]) -> Verdict | None:
        strings = [t.text for t in texts]
        found_all = self._hits(detector.scan("\n".join(strings)))
        if not found_all:
            return None
        edits: dict[Path, str] = {}
        excerpts: list[str] = []
        unrewritable = False
        for i, located in locate(strings, found_all, lambda f: f.start, lambda f: f.end).items():
            text = strings[i]
            local = [Finding(f.rule, f.severity, lo, hi, f.message) for f, lo, hi in located]
            excerpts.extend(f"{f.rule}={mask(text[f.start : f.end])}" for f in local[:5])
            if not _rewritable(texts[i]):
                unrewritable = True
            else:
                edits[texts[i].path] = texts[i].raw(redact(text, local))
        rules = sorted({f.rule for f in found_all})
        severity = max((f.severity for f in found_all), key=lambda s: RANK[s])
        reason = f"the message contains a credential or personal data ({', '.join(rules)})"
        evidence = "; ".join(excerpts[:20])
        rewritable = not unrewritable and bool(edits)
        step = ladder(
            severity,
            self.threshold,
            self.actions[msg.direction],
            lambda: replace_strings(msg.body, edits) if rewritable else None,
        )
        assert step is not None  # every finding here is at or above the threshold
        return step.verdict(self.name, rules[0], reason, severity, evidence=evidence)


def _rewritable(text: Text) -> bool:
    """A string value below the envelope: a key, ``id``, ``method`` or ``jsonrpc`` is never
    rewritten (the message would mean something else)."""
    return not text.key and len(text.path) > 1
