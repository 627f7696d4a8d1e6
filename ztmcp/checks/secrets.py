"""``secrets``: credentials and personal data crossing the proxy.

Outbound (agent → server) ``tools/call`` arguments are scanned as ``key: value`` lines, so a
keyword rule sees ``{"password": "…"}``; a secret there is about to leave the machine: DENY by
default (``redact`` or ``flag`` by policy). Inbound (server → agent) results are scanned per
string and each secret span is replaced by ``[REDACTED:<rule>]`` (REWRITE), so the model never
holds a credential a tool happened to print; policy may choose ``deny`` or ``flag``. Reasons
name the rule, never the value; the audit evidence carries masked excerpts only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from ztmcp.checks.base import Action, Context, Severity, Verdict
from ztmcp.detectors import iter_strings, scan_arguments
from ztmcp.detectors import secrets as detector
from ztmcp.detectors.findings import RANK, Finding, mask, policy_choice, policy_severity
from ztmcp.detectors.mcp import Path, replace_strings, result_texts
from ztmcp.jsonrpc import Direction, Kind, Message

OUTBOUND_ACTIONS: Final = ("deny", "redact", "flag")
INBOUND_ACTIONS: Final = ("redact", "deny", "flag")
_INBOUND: Final = frozenset({"tools/call", "resources/read", "prompts/get"})


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


class SecretsCheck:
    name = "secrets"

    def __init__(self, threshold: Severity = Severity.HIGH, outbound: str = "deny",
                 inbound: str = "redact") -> None:
        if outbound not in OUTBOUND_ACTIONS:
            raise ValueError(f"secrets outbound must be one of {', '.join(OUTBOUND_ACTIONS)}")
        if inbound not in INBOUND_ACTIONS:
            raise ValueError(f"secrets inbound must be one of {', '.join(INBOUND_ACTIONS)}")
        self.threshold = threshold
        self.outbound = outbound
        self.inbound = inbound

    KEYS: Final = frozenset({"threshold", "outbound", "inbound"})

    @classmethod
    def from_table(cls, table: Mapping[str, Any], origin: str) -> SecretsCheck:
        """From the ``[secrets]`` policy table (threshold, outbound, inbound)."""
        return cls(policy_severity(table, origin, "secrets"),
                   policy_choice(table, "outbound", OUTBOUND_ACTIONS, origin, "secrets"),
                   policy_choice(table, "inbound", INBOUND_ACTIONS, origin, "secrets"))

    def _hits(self, findings: list[Finding]) -> list[Finding]:
        return [f for f in findings if RANK[f.severity] >= RANK[self.threshold]]

    def check(self, msg: Message, ctx: Context) -> Verdict | None:
        if msg.direction is Direction.TO_SERVER and msg.method == "tools/call":
            return self._outbound(msg)
        if msg.direction is Direction.TO_CLIENT and msg.kind is Kind.RESPONSE:
            method = ctx.request.method if ctx.request is not None else None
            if method in _INBOUND:
                return self._inbound(msg, method)
        return None

    def _outbound(self, msg: Message) -> Verdict | None:
        arguments = msg.params.get("arguments")
        if arguments is None:
            return None
        hits = self._hits(scan_arguments(arguments))
        if not hits:
            return None
        rules = sorted({f.rule for f in hits})
        severity = max((f.severity for f in hits), key=lambda s: RANK[s])
        reason = f"the call's arguments contain a credential or personal data ({', '.join(rules)})"
        evidence = ",".join(rules)
        hint = "remove the secret from the request, or pass it through the server's own config"
        if self.outbound == "flag":
            return Verdict(Action.FLAG, self.name, rules[0], reason, severity, evidence=evidence)
        if self.outbound == "redact":
            edits: dict[Path, str] = {}
            for path, text in _argument_strings(arguments):
                found = self._hits(detector.scan(text))
                if found:
                    edits[("params", "arguments", *path)] = redact(text, found)
            if edits:
                return Verdict(Action.REWRITE, self.name, rules[0], f"redacted: {reason}",
                               severity, replacement=replace_strings(msg.body, edits),
                               evidence=evidence)
        return Verdict(Action.DENY, self.name, rules[0], reason, severity, evidence=evidence,
                       hint=hint)

    def _inbound(self, msg: Message, method: str | None) -> Verdict | None:
        edits: dict[Path, str] = {}
        found_all: list[Finding] = []
        excerpts: list[str] = []
        for path, text in result_texts(method, msg.body.get("result")):
            found = self._hits(detector.scan(text))
            if found:
                edits[path] = redact(text, found)
                found_all.extend(found)
                excerpts.extend(f"{f.rule}={mask(text[f.start:f.end])}" for f in found[:5])
        if not found_all:
            return None
        rules = sorted({f.rule for f in found_all})
        severity = max((f.severity for f in found_all), key=lambda s: RANK[s])
        reason = f"the result contains a credential or personal data ({', '.join(rules)})"
        evidence = "; ".join(excerpts[:20])
        if self.inbound == "flag":
            return Verdict(Action.FLAG, self.name, rules[0], reason, severity, evidence=evidence)
        if self.inbound == "deny":
            return Verdict(Action.DENY, self.name, rules[0], reason, severity, evidence=evidence)
        return Verdict(Action.REWRITE, self.name, rules[0], f"redacted: {reason}", severity,
                       replacement=replace_strings(msg.body, edits), evidence=evidence)


def _argument_strings(arguments: Any) -> list[tuple[Path, str]]:
    """(path below ``arguments``, string) pairs with real list indexes."""
    out: list[tuple[Path, str]] = []
    for raw, text in iter_strings(arguments):
        node: Any = arguments
        path: list[str | int] = []
        for part in raw.split("/")[1:]:
            if isinstance(node, list) and part.isdigit():
                path.append(int(part))
                node = node[int(part)]
            elif isinstance(node, dict) and part in node:
                path.append(part)
                node = node[part]
            else:
                break
        else:
            out.append((tuple(path), text))
    return out
