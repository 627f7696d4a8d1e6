"""``ztmcp eval``: run the detectors over labelled JSONL corpora and count TP/FP/TN/FN.

A sample is predicted positive when its detector reports any finding at or above the blocking
severity (HIGH), which is what the checks act on by default. Corpus format: see
``../shared/eval/README.md`` (``kind`` · ``label`` · ``attack_type`` · ``tool``/``text``/
``arguments``). Results are broken down per attack family (the part of ``attack_type`` before
':') and per ``source``, because one template dominating a corpus can hide a weak detector.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from ztmcp.checks.base import Severity
from ztmcp.detectors import scan_arguments, scan_content, scan_definition
from ztmcp.detectors.findings import RANK, Finding
from ztmcp.documents import open_file
from ztmcp.errors import UsageError
from ztmcp.jsonrpc import loads_document

KINDS: Final[Mapping[str, tuple[str, Callable[[Any], list[Finding]]]]] = {
    "tool_description": ("tool", scan_definition),
    "tool_result": ("text", scan_content),
    "arguments": ("arguments", scan_arguments),
}


@dataclass(slots=True)
class Counts:
    tp: int = 0
    fp: int = 0
    tn: int = 0
    fn: int = 0

    def add(self, malicious: bool, flagged: bool) -> None:
        if malicious:
            if flagged:
                self.tp += 1
            else:
                self.fn += 1
        elif flagged:
            self.fp += 1
        else:
            self.tn += 1

    @property
    def tpr(self) -> float | None:
        pos = self.tp + self.fn
        return self.tp / pos if pos else None

    @property
    def fpr(self) -> float | None:
        neg = self.fp + self.tn
        return self.fp / neg if neg else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "tp": self.tp,
            "fp": self.fp,
            "tn": self.tn,
            "fn": self.fn,
            "tpr": _round(self.tpr),
            "fpr": _round(self.fpr),
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


@dataclass(frozen=True, slots=True)
class Error:
    """A misclassified sample: its id, kind, source and the rules that fired (if any)."""

    id: str
    kind: str
    source: str
    label: str
    rules: tuple[str, ...]


@dataclass(slots=True)
class Report:
    kinds: dict[str, Counts] = field(default_factory=dict)
    attack_types: dict[tuple[str, str], Counts] = field(default_factory=dict)
    sources: dict[tuple[str, str], Counts] = field(default_factory=dict)
    errors: list[Error] = field(default_factory=list)
    samples: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "kinds": {k: c.as_dict() for k, c in sorted(self.kinds.items())},
            "attack_types": {
                k: {a: c.as_dict() for (kk, a), c in sorted(self.attack_types.items()) if kk == k}
                for k in sorted(self.kinds)
            },
            "sources": {
                k: {s: c.as_dict() for (kk, s), c in sorted(self.sources.items()) if kk == k}
                for k in sorted(self.kinds)
            },
            "samples": self.samples,
        }


def load(paths: Iterable[Path]) -> Iterable[tuple[Path, int, dict[str, Any]]]:
    """Samples from JSONL files, with the file and line they came from."""
    for path in paths:
        try:
            handle = open_file(path)  # each line decoded alone: bad UTF-8 is that line's error
        except OSError as exc:
            raise UsageError(f"{path}: cannot read ({exc.strerror})") from None
        with handle:
            for lineno, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                try:
                    sample = loads_document(line)
                except ValueError as exc:
                    why = "not UTF-8" if isinstance(exc, UnicodeDecodeError) else exc.args[0]
                    raise UsageError(f"{path}:{lineno}: not a JSON object ({why})") from None
                if not isinstance(sample, dict):
                    raise UsageError(f"{path}:{lineno}: not a JSON object")
                yield path, lineno, sample


def predict(
    kind: str, sample: Mapping[str, Any], threshold: Severity = Severity.HIGH
) -> tuple[bool, list[Finding]]:
    """Whether the detector for ``kind`` flags ``sample``, and the findings at the threshold."""
    key, detector = KINDS[kind]
    findings = (
        [f for f in detector(sample.get(key)) if RANK[f.severity] >= RANK[threshold]]
        if sample.get(key) is not None
        else []
    )
    return bool(findings), findings


def evaluate(paths: Iterable[Path], threshold: Severity = Severity.HIGH) -> Report:
    report = Report()
    for path, lineno, sample in load(paths):
        kind = str(sample.get("kind"))
        label = sample.get("label")
        if kind not in KINDS:
            raise UsageError(
                f"{path}:{lineno}: unknown kind {kind!r}", hint=f"known kinds: {', '.join(KINDS)}"
            )
        if label not in ("malicious", "benign"):
            raise UsageError(f"{path}:{lineno}: label must be 'malicious' or 'benign'")
        malicious = label == "malicious"
        flagged, findings = predict(kind, sample, threshold)
        report.samples += 1
        report.kinds.setdefault(kind, Counts()).add(malicious, flagged)
        source = str(sample.get("source") or "?")
        report.sources.setdefault((kind, source), Counts()).add(malicious, flagged)
        if malicious:
            family = str(sample.get("attack_type") or "?").split(":", 1)[0]
            report.attack_types.setdefault((kind, family), Counts()).add(malicious, flagged)
        if malicious != flagged:
            report.errors.append(
                Error(
                    str(sample.get("id")),
                    kind,
                    source,
                    label,
                    tuple(sorted({f.rule for f in findings})),
                )
            )
    return report


def _pct(value: float | None) -> str:
    return "   n/a" if value is None else f"{100 * value:5.1f}%"


def render_text(report: Report, *, errors: int = 0) -> str:
    """A plain-text table per kind, per attack family and per source."""
    out: list[str] = []
    for kind, c in sorted(report.kinds.items()):
        out.append(
            f"{kind}: TP {c.tp}  FP {c.fp}  TN {c.tn}  FN {c.fn}  "
            f"TPR {_pct(c.tpr)}  FPR {_pct(c.fpr)}"
        )
        fams = sorted((a, cc) for (k, a), cc in report.attack_types.items() if k == kind)
        for family, cc in fams:
            out.append(f"  attack {family:<40} recall {_pct(cc.tpr)}  ({cc.tp}/{cc.tp + cc.fn})")
        for (k, source), cc in sorted(report.sources.items()):
            if k != kind:
                continue
            parts = []
            if cc.tp + cc.fn:
                parts.append(f"recall {_pct(cc.tpr)} ({cc.tp}/{cc.tp + cc.fn})")
            if cc.fp + cc.tn:
                parts.append(f"FP {cc.fp}/{cc.fp + cc.tn}")
            out.append(f"  source {source[:70]:<70} {'  '.join(parts)}")
    if errors:
        out.append("misclassified:")
        for e in report.errors[:errors]:
            what = "missed" if e.label == "malicious" else "false positive"
            out.append(f"  {what:<14} {e.kind:<16} {e.id}  {','.join(e.rules)}")
    return "\n".join(out)
