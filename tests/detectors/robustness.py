"""How robust is each source: which rules carry each source's detections, and what is left of
its recall when the rules that fire on no other source are taken away.

Run ``python -m tests.detectors.robustness FILE.jsonl…`` (the dev corpora, the evasion corpus)
for the markdown tables in docs/detection.md. Hand-written rules cannot be retrained without a
source, so "leave one source out" is estimated from the rules themselves: a rule whose
detections all fall on one source was, plausibly, written for that source; a source that is
still caught without such rules would have been caught had it never been seen. A source whose
detections mostly hang on one rule is fitted, one caught by several independent rules is
robust. On the benign side, a sample with a MEDIUM finding is one weak signal away from
blocking (``instr.combined``): their share says how close a source is to false positives.
"""

from __future__ import annotations

import re
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ztmcp.detectors.findings import RANK
from ztmcp.evaluation import KINDS, load
from ztmcp.severity import Severity

_HIGH = RANK[Severity.HIGH]
_MEDIUM = RANK[Severity.MEDIUM]


@dataclass(frozen=True, slots=True)
class Sample:
    kind: str
    group: str  # the source, shortened (train/test halves and attack files merged)
    family: str  # the attack family (``attack_type`` without the injection prefix)
    malicious: bool
    high: frozenset[str]  # distinct rules at or above HIGH
    medium: frozenset[str]  # distinct rules at MEDIUM


_SHORT = (
    (
        re.compile(r"^AgentDojo [\d.]+ environment record \(suite (\w+).*"),
        r"AgentDojo \1 (records)",
    ),
    (re.compile(r"^AgentDojo [\d.]+ \(suite (\w+).*"), r"AgentDojo \1"),
    (re.compile(r"^BIPIA benchmark/(\w+)/.*"), r"BIPIA \1"),
    (re.compile(r"^MSB \(prompt_injection template.*"), "MSB prompt-injection template"),
    (re.compile(r"^MSB \(.*terminal_controller-([\w-]+)\.py\)"), r"MSB terminal_controller \1"),
    (re.compile(r"^MSB \(data/tools/.*"), "MSB tool transfer"),
    (re.compile(r"^damn-vulnerable-MCP-server \(challenges/\w+/(\w+)/.*"), r"DVMCP \1"),
    (re.compile(r"^MCPSecBench.*"), "MCPSecBench"),
    (re.compile(r"^(npm|pypi):.*"), r"real servers (\1)"),
)


def group_of(source: str) -> str:
    for rx, repl in _SHORT:
        if rx.match(source):
            return rx.sub(repl, source)
    return source


def family_of(attack_type: str | None) -> str:
    if not attack_type:
        return "-"
    return attack_type.removeprefix("indirect_injection:").removeprefix("bipia:")


def samples(paths: Iterable[Path]) -> list[Sample]:
    out = []
    for _path, _line, raw in load(paths):
        key, detector = KINDS[raw["kind"]]
        value = raw.get(key)
        findings = detector(value) if value is not None else []
        out.append(
            Sample(
                raw["kind"],
                group_of(str(raw.get("source") or "?")),
                family_of(raw.get("attack_type")),
                raw["label"] == "malicious",
                frozenset(f.rule for f in findings if RANK[f.severity] >= _HIGH),
                frozenset(f.rule for f in findings if RANK[f.severity] == _MEDIUM),
            )
        )
    return out


@dataclass(slots=True)
class Row:
    positives: int = 0
    caught: int = 0
    caught_without_own: int = 0  # caught by a rule that also fires on another group
    single: int = 0  # caught by exactly one rule
    rules: Counter[str] = field(default_factory=Counter)
    own: set[str] = field(default_factory=set)  # rules that fire on this group only
    benign: int = 0
    flagged: int = 0
    one_step: int = 0  # benign with a MEDIUM finding and no HIGH one


def table(rows: list[Sample], by: str = "group") -> dict[str, Row]:
    """Per group (``by``: ``group`` or ``family``) of one kind's samples."""
    where: dict[str, set[str]] = defaultdict(set)  # rule -> groups whose positives it catches
    for s in rows:
        if s.malicious:
            for r in s.high:
                where[r].add(getattr(s, by))
    out: dict[str, Row] = defaultdict(Row)
    for s in rows:
        g = getattr(s, by)
        row = out[g]
        if s.malicious:
            row.positives += 1
            if s.high:
                row.caught += 1
                row.single += len(s.high) == 1
                row.rules.update(s.high)
                row.own.update(r for r in s.high if where[r] == {g})
                row.caught_without_own += any(where[r] != {g} for r in s.high)
        else:
            row.benign += 1
            row.flagged += bool(s.high)
            row.one_step += bool(s.medium) and not s.high
    return dict(out)


def _pct(a: int, b: int) -> str:
    return f"{a}/{b} ({100 * a / b:.0f} %)" if b else "-"


def markdown(per: Mapping[str, Row], title: str) -> str:
    lines = [
        f"| {title} | recall | without its own rules | caught by one rule | rules (hits) | FP "
        "| benign one weak signal away |",
        "|---|---|---|---|---|---|---|",
    ]
    for g, row in sorted(per.items(), key=lambda kv: (-kv[1].positives, kv[0])):
        rules = ", ".join(
            f"{r.removeprefix('instr.')}{'*' if r in row.own else ''} {n}"
            for r, n in row.rules.most_common(6)
        )
        more = len(row.rules) - 6
        if more > 0:
            rules += f", +{more}"
        lines.append(
            f"| {g} | {_pct(row.caught, row.positives)} "
            f"| {_pct(row.caught_without_own, row.positives)} "
            f"| {_pct(row.single, row.caught)} | {rules or '-'} "
            f"| {_pct(row.flagged, row.benign)} | {_pct(row.one_step, row.benign)} |"
        )
    return "\n".join(lines)


def main(argv: list[str]) -> None:
    rows = samples(Path(a) for a in argv)
    for kind in sorted({s.kind for s in rows}):
        of_kind = [s for s in rows if s.kind == kind]
        print(f"\n### {kind}: per source (* a rule that fires on this source only)\n")
        print(markdown(table(of_kind, "group"), "source"))
        if any(s.family != "-" for s in of_kind if s.malicious):
            print(f"\n### {kind}: per attack family\n")
            print(markdown(table([s for s in of_kind if s.malicious], "family"), "family"))


def _main() -> None:  # pragma: no cover - a command-line entry
    main(sys.argv[1:])


if __name__ == "__main__":
    _main()


__all__: list[Any] = ["Row", "Sample", "family_of", "group_of", "main", "samples", "table"]
