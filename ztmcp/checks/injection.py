"""``injection``: instructions smuggled into content the model reads as data.

Tool results (text blocks, embedded resources, every ``structuredContent`` string),
``resources/read`` contents, ``prompts/get`` messages, and the server→client
``sampling/createMessage`` / ``elicitation/create`` requests are scanned with the content
profile of ``ztmcp.detectors.instructions`` plus hidden-content rules. Default action: DENY
(the agent gets a failed tool result, never the injected text). Policy may choose ``redact``
(REWRITE: each offending string is replaced by a short notice, the rest is forwarded) or
``flag``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from ztmcp.checks.base import Action, Context, Severity, Verdict
from ztmcp.detectors import scan_content
from ztmcp.detectors.findings import RANK, Finding, policy_choice, policy_severity
from ztmcp.detectors.mcp import SERVER_PROMPTS, Path, replace_strings, request_texts, result_texts
from ztmcp.jsonrpc import Direction, Kind, Message

ACTIONS: Final = ("deny", "redact", "flag")
NOTICE: Final = "[ztmcp: content withheld: it contained instructions aimed at the AI model]"
_SCANNED: Final = frozenset({"tools/call", "resources/read", "prompts/get"})


class InjectionCheck:
    name = "injection"

    def __init__(self, threshold: Severity = Severity.HIGH, action: str = "deny") -> None:
        if action not in ACTIONS:
            raise ValueError(f"injection action must be one of {', '.join(ACTIONS)}")
        self.threshold = threshold
        self.action = action

    KEYS: Final = frozenset({"threshold", "action"})

    @classmethod
    def from_table(cls, table: Mapping[str, Any], origin: str) -> InjectionCheck:
        """From the ``[injection]`` policy table (threshold, action)."""
        return cls(policy_severity(table, origin, "injection"),
                   policy_choice(table, "action", ACTIONS, origin, "injection"))

    def check(self, msg: Message, ctx: Context) -> Verdict | None:
        if msg.direction is not Direction.TO_CLIENT:
            return None
        texts: list[tuple[Path, str]]
        if msg.kind is Kind.RESPONSE:
            method = ctx.request.method if ctx.request is not None else None
            if method not in _SCANNED:
                return None
            texts = list(result_texts(method, msg.body.get("result")))
        elif msg.kind is Kind.REQUEST and msg.method in SERVER_PROMPTS:
            texts = list(request_texts(msg.method, msg.params))
        else:
            return None
        hits: dict[Path, list[Finding]] = {}
        for path, text in texts:
            found = [f for f in scan_content(text) if RANK[f.severity] >= RANK[self.threshold]]
            if found:
                hits[path] = found
        if not hits:
            return None
        return self._verdict(msg, hits)

    def _verdict(self, msg: Message, hits: Mapping[Path, list[Finding]]) -> Verdict:
        findings = [f for fs in hits.values() for f in fs]
        rules = sorted({f.rule for f in findings})
        severity = max((f.severity for f in findings), key=lambda s: RANK[s])
        where = "a server request" if msg.kind is Kind.REQUEST else "the result"
        reason = f"{where} contains instructions aimed at the AI model (prompt injection)"
        evidence = ",".join(rules) + f" in {len(hits)} field(s)"
        hint = "if this source is trusted, set [injection] action = \"flag\" in ztmcp.toml"
        if self.action == "flag":
            return Verdict(Action.FLAG, self.name, rules[0], reason, severity, evidence=evidence)
        if self.action == "redact":
            body: dict[str, Any] = replace_strings(msg.body, {p: NOTICE for p in hits})
            return Verdict(Action.REWRITE, self.name, rules[0], f"redacted: {reason}", severity,
                           replacement=body, evidence=evidence)
        return Verdict(Action.DENY, self.name, rules[0], reason, severity, evidence=evidence,
                       hint=hint)
