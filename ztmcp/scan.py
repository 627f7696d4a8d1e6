"""``ztmcp scan``: what a server lists for the model, reviewed before anyone connects it.

Pure functions of a manifest: ``{"tools": [...], "prompts": [...], "resources": [...],
"resourceTemplates": [...], "instructions": "..."}``, a raw ``tools/list`` result (or any list
result, or a JSON-RPC response carrying one). Every listed item is scanned with the detectors
the ``poisoning`` check uses at run time (``scan_definition``), plus the secrets detector on each
of its strings; findings say which item, which field, which rule, how severe, and where (offsets
in that field's string, with a short excerpt in which secrets are masked and hidden characters
escaped).

Renderers: plain text, JSON, and SARIF 2.1.0 for GitHub code scanning.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from ztmcp.checks.base import Severity
from ztmcp.detectors import iter_strings, scan_definition, secrets, unicode
from ztmcp.detectors.findings import RANK, Finding, mask

if TYPE_CHECKING:
    from ztmcp.behaviour.capabilities import CapabilityRule

# Keys of a manifest and the kind of item each lists.
KINDS: Final[dict[str, str]] = {
    "tools": "tool",
    "prompts": "prompt",
    "resources": "resource",
    "resourceTemplates": "resourceTemplate",
}
EXCERPT: Final = 120
SARIF_SCHEMA: Final = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVEL: Final = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
}
# GitHub code scanning ranks security alerts by this property (0.0 to 10.0).
_SECURITY_SEVERITY: Final = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.0",
    Severity.LOW: "2.0",
}
_HIDDEN: Final = re.compile(r"[^\x20-\x7e\n\t]")


class ManifestError(ValueError):
    """The input is not a manifest or list result (the message is one line)."""


@dataclass(frozen=True, slots=True)
class Issue:
    """One finding on one listed item."""

    kind: str  # tool, prompt, resource, resourceTemplate or server (for instructions)
    name: str
    index: int  # position in its list (0 for the server)
    rule: str
    severity: Severity
    message: str
    field: str  # JSON pointer of the string inside the item ("" for the item as a whole)
    start: int  # offsets in that string (for instruction rules: with hidden characters removed)
    end: int
    excerpt: str  # safe to print: secrets masked, hidden characters escaped

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "index": self.index,
            "rule": self.rule,
            "severity": self.severity.value,
            "message": self.message,
            "field": self.field,
            "start": self.start,
            "end": self.end,
            "excerpt": self.excerpt,
        }


@dataclass(frozen=True, slots=True)
class Item:
    kind: str
    name: str
    index: int
    issues: tuple[Issue, ...]


@dataclass(slots=True)
class Report:
    items: list[Item] = field(default_factory=list)
    source: str | None = None  # the manifest path, when there is one
    # tool name -> its capability labels and where they came from (ztmcp.behaviour)
    capabilities: dict[str, str] = field(default_factory=dict)

    @property
    def issues(self) -> list[Issue]:
        return [i for item in self.items for i in item.issues]

    def at_least(self, severity: Severity) -> list[Issue]:
        return [i for i in self.issues if RANK[i.severity] >= RANK[severity]]

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for item in self.items:
            out[item.kind] = out.get(item.kind, 0) + 1
        return out


def normalize(manifest: Any) -> dict[str, Any]:
    """The manifest lists (``tools``, ``prompts``, …) and ``instructions`` from any accepted
    shape; raises ``ManifestError`` otherwise."""
    if (
        isinstance(manifest, Mapping)
        and isinstance(manifest.get("result"), Mapping)
        and not any(k in manifest for k in (*KINDS, "instructions"))
    ):
        manifest = manifest["result"]  # a JSON-RPC response
    if not isinstance(manifest, Mapping):
        raise ManifestError(
            'a manifest must be a JSON object with a "tools" list '
            "(or prompts, resources, instructions)"
        )
    out: dict[str, Any] = {}
    for key in KINDS:
        value = manifest.get(key)
        if value is None:
            continue
        if not isinstance(value, list):
            raise ManifestError(f'"{key}" must be a list')
        out[key] = value
    instructions = manifest.get("instructions")
    if instructions is not None and not isinstance(instructions, str):
        raise ManifestError('"instructions" must be a string')
    if instructions:
        out["instructions"] = instructions
    if not out and not any(k in manifest for k in KINDS):
        raise ManifestError('no "tools", "prompts", "resources" or "instructions" in the manifest')
    return out


def _name(item: Any, index: int) -> str:
    if isinstance(item, Mapping):
        for key in ("name", "uri", "uriTemplate"):
            value = item.get(key)
            if isinstance(value, str):
                return value
    return f"#{index}"


def _escape(text: str) -> str:
    """Hidden and non-ASCII characters as ``\\uXXXX`` so an excerpt shows what is there."""
    return _HIDDEN.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def _excerpt(text: str, start: int, end: int, secret_spans: list[tuple[int, int]]) -> str:
    lo, hi = max(0, start), min(len(text), max(end, start + 1))
    if hi - lo > EXCERPT:
        hi = lo + EXCERPT
    parts: list[str] = []
    pos = lo
    for s, e in secret_spans:
        if e <= lo or s >= hi:
            continue
        s, e = max(s, pos), min(e, len(text))
        parts.append(_escape(text[pos:s]))
        parts.append(mask(text[s:e]))
        pos = max(pos, e)
    if pos < hi:
        parts.append(_escape(text[pos:hi]))
    more = "…" if hi < min(len(text), end) else ""
    return "".join(parts) + more


class _Fields:
    """The strings of one item in ``scan_definition`` order, to map joined offsets back."""

    def __init__(self, item: Mapping[str, Any]) -> None:
        self.paths: list[str] = []
        self.raw: list[str] = []
        self.revealed: list[str] = []
        for path, text in iter_strings(item, keys=True):
            self.paths.append(path)
            self.raw.append(text)
            self.revealed.append(unicode.reveal(text))
        self.secrets: list[list[tuple[int, int]]] = []
        self.secret_findings: list[list[Finding]] = []
        for text in self.raw:
            found = secrets.scan(text)
            self.secret_findings.append(found)
            self.secrets.append([(f.start, f.end) for f in found])

    def locate(self, offset: int, revealed: bool) -> tuple[int, int]:
        """(field index, offset in that field) for an offset in the joined strings."""
        texts = self.revealed if revealed else self.raw
        for i, text in enumerate(texts):
            if offset <= len(text):
                return i, offset
            offset -= len(text) + 1
        return max(0, len(texts) - 1), 0


# Findings about a whole definition, not a place in it (offsets 0, 0).
_WHOLE_ITEM: Final = frozenset({"instr.context_param", "instr.combined", "instr.learned"})


def _issues(kind: str, name: str, index: int, item: Mapping[str, Any]) -> Iterator[Issue]:
    fields = _Fields(item)
    for f in scan_definition(item):
        if f.start == f.end == 0 and f.rule in _WHOLE_ITEM:
            yield Issue(kind, name, index, f.rule, f.severity, f.message, "", 0, 0, "")
            continue
        revealed = f.rule.startswith("instr.")
        if not fields.raw:
            yield Issue(kind, name, index, f.rule, f.severity, f.message, "", 0, 0, "")
            continue
        i, start = fields.locate(f.start, revealed)
        end = start + (f.end - f.start)
        text = fields.revealed[i] if revealed else fields.raw[i]
        spans = (
            fields.secrets[i]
            if text is fields.raw[i] or text == fields.raw[i]
            else [(s.start, s.end) for s in secrets.scan(text)]
        )
        yield Issue(
            kind,
            name,
            index,
            f.rule,
            f.severity,
            f.message,
            fields.paths[i],
            start,
            end,
            _excerpt(text, start, end, spans),
        )
    for i, found in enumerate(fields.secret_findings):
        for f in found:
            yield Issue(
                kind,
                name,
                index,
                f.rule,
                f.severity,
                f.message,
                fields.paths[i],
                f.start,
                f.end,
                mask(fields.raw[i][f.start : f.end]),
            )


def scan_manifest(
    manifest: Any,
    source: str | None = None,
    *,
    server: str = "*",
    rules: Sequence[CapabilityRule] = (),
) -> Report:
    """Findings per listed item (and for the server instructions) of ``manifest``, and each
    tool's capabilities (``rules``: the policy's ``[[capabilities]]`` tables, if any)."""
    from ztmcp.behaviour.capabilities import resolve

    lists = normalize(manifest)
    report = Report(source=source)
    for key, kind in KINDS.items():
        for index, item in enumerate(lists.get(key, [])):
            name = _name(item, index)
            if not isinstance(item, Mapping):
                report.items.append(
                    Item(
                        kind,
                        name,
                        index,
                        (
                            Issue(
                                kind,
                                name,
                                index,
                                "manifest.not_an_object",
                                Severity.MEDIUM,
                                f"this {kind} is not a JSON object",
                                "",
                                0,
                                0,
                                "",
                            ),
                        ),
                    )
                )
                continue
            issues = sorted(
                _issues(kind, name, index, item),
                key=lambda i: (-RANK[i.severity], i.field, i.start, i.rule),
            )
            report.items.append(Item(kind, name, index, tuple(issues)))
            if kind == "tool":
                report.capabilities[name] = resolve(server, name, item, rules=rules).describe()
    if "instructions" in lists:
        item = {"instructions": lists["instructions"]}
        issues = sorted(
            _issues("server", "instructions", 0, item),
            key=lambda i: (-RANK[i.severity], i.start, i.rule),
        )
        report.items.append(Item("server", "instructions", 0, tuple(issues)))
    return report


# -- renderers --------------------------------------------------------------------------------


def render_text(report: Report, fail_on: Severity = Severity.HIGH) -> str:
    counts = report.counts()
    listed = ", ".join(f"{n} {k}{'s' if n != 1 else ''}" for k, n in counts.items()) or "nothing"
    out = [f"scanned {listed}" + (f" from {report.source}" if report.source else "")]
    flagged = [item for item in report.items if item.issues]
    for item in flagged:
        worst = max((i.severity for i in item.issues), key=lambda s: RANK[s])
        out.append(f"\n{item.kind} '{_escape(item.name)}': {worst.value.upper()}")
        for issue in item.issues:
            where = f" at {_escape(issue.field)}[{issue.start}:{issue.end}]" if issue.field else ""
            out.append(f"  {issue.severity.value:<8} {issue.rule}{where}: {issue.message}")
            if issue.excerpt:
                out.append(f"           \u201c{issue.excerpt}\u201d")
    if report.capabilities:
        out.append("\ncapabilities (labels, and where they came from):")
        for name, labels in report.capabilities.items():
            out.append(f"  {_escape(name)}: {labels}")
    blocking = report.at_least(fail_on)
    names = sorted({f"{i.kind} {_escape(i.name)}" for i in blocking})
    out.append("")
    if blocking:
        out.append(
            f"{len(blocking)} finding(s) at or above {fail_on.value} in "
            f"{len(names)} item(s): {', '.join(names)}"
        )
    else:
        out.append(f"no findings at or above {fail_on.value}")
    return "\n".join(out)


def render_json(report: Report) -> str:
    doc = {
        "source": report.source,
        "items": [
            {
                "kind": item.kind,
                "name": item.name,
                "index": item.index,
                "findings": [i.as_dict() for i in item.issues],
                **(
                    {"capabilities": report.capabilities[item.name]}
                    if item.kind == "tool" and item.name in report.capabilities
                    else {}
                ),
            }
            for item in report.items
        ],
    }
    return json.dumps(doc, indent=2, ensure_ascii=False)


def _line_of(text: str, kind: str, name: str, index: int) -> int:
    """Best-effort 1-based line of an item's name in the manifest text (1 when not found)."""
    needle = json.dumps(name, ensure_ascii=False)
    pos = -1
    for m in re.finditer(r'"(?:name|uri|uriTemplate)"\s*:\s*' + re.escape(needle), text):
        pos = m.start()
        break
    if pos < 0:
        key = {"server": "instructions"}.get(kind)
        if key is not None:
            pos = text.find(f'"{key}"')
    return text.count("\n", 0, pos) + 1 if pos >= 0 else 1


def render_sarif(report: Report, manifest_text: str | None = None, tool_version: str = "0") -> str:
    """SARIF 2.1.0: one run, a rule per rule id seen, a result per finding.

    Results point at the manifest file (``report.source``) when there is one, with the line of
    the item, and always carry a logical location naming the item (``tools/add``).
    """
    issues = report.issues
    rule_ids = sorted({i.rule for i in issues})
    first = {rid: next(i for i in issues if i.rule == rid) for rid in rule_ids}
    worst: dict[str, Severity] = {}
    for i in issues:
        if i.rule not in worst or RANK[i.severity] > RANK[worst[i.rule]]:
            worst[i.rule] = i.severity
    rules = [
        {
            "id": rid,
            "name": "".join(p.capitalize() for p in re.split(r"[._]", rid)),
            "shortDescription": {"text": first[rid].message},
            "fullDescription": {"text": f"ztmcp detector rule {rid}: {first[rid].message}."},
            "defaultConfiguration": {"level": _LEVEL[worst[rid]]},
            "help": {
                "text": "Review the listed definition: text a model reads as trusted context "
                "should describe the tool, not instruct the model."
            },
            "properties": {
                "tags": ["security", "mcp"],
                "security-severity": _SECURITY_SEVERITY[worst[rid]],
            },
        }
        for rid in rule_ids
    ]
    index = {rid: n for n, rid in enumerate(rule_ids)}
    results = []
    for i in issues:
        logical = {
            "name": i.name,
            "kind": "function" if i.kind == "tool" else "member",
            "fullyQualifiedName": f"{i.kind}s/{i.name}"
            if i.kind != "server"
            else "server/instructions",
        }
        location: dict[str, Any] = {"logicalLocations": [logical]}
        if report.source:
            line = _line_of(manifest_text or "", i.kind, i.name, i.index)
            location["physicalLocation"] = {
                "artifactLocation": {"uri": report.source},
                "region": {"startLine": line},
            }
        text = f"{i.kind} '{i.name}': {i.message}"
        if i.field:
            text += f" (in {i.field})"
        if i.excerpt:
            text += f": {i.excerpt}"
        results.append(
            {
                "ruleId": i.rule,
                "ruleIndex": index[i.rule],
                "level": _LEVEL[i.severity],
                "message": {"text": text},
                "locations": [location],
                "partialFingerprints": {"ztmcpItem/v1": f"{i.kind}/{i.name}/{i.rule}/{i.field}"},
                "properties": {"severity": i.severity.value},
            }
        )
    doc = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "ztmcp",
                        "version": tool_version,
                        "rules": rules,
                    }
                },
                "results": results,
            }
        ],
    }
    return json.dumps(doc, indent=2, ensure_ascii=False)
