"""``tests.detectors.robustness``: the per-source table of docs/detection.md."""

from __future__ import annotations

from pathlib import Path

from tests.detectors.robustness import Sample, family_of, group_of, markdown, samples, table


def _s(group: str, high: set[str], malicious: bool = True, medium: set[str] = set()) -> Sample:  # noqa: B006
    return Sample("tool_result", group, "-", malicious, frozenset(high), frozenset(medium))


def test_a_rule_of_one_source_only_is_taken_away_for_that_source() -> None:
    rows = [
        _s("A", {"shared", "own_a"}),
        _s("A", {"own_a"}),
        _s("A", set()),
        _s("B", {"shared"}),
        _s("B", set(), malicious=False, medium={"weak"}),
        _s("B", {"shared"}, malicious=False),
    ]
    per = table(rows)
    a, b = per["A"], per["B"]
    assert (a.positives, a.caught, a.caught_without_own, a.single) == (3, 2, 1, 1)
    assert a.own == {"own_a"} and b.own == set()
    assert (b.positives, b.caught, b.caught_without_own) == (1, 1, 1)
    assert (b.benign, b.flagged, b.one_step) == (2, 1, 1)
    text = markdown(per, "source")
    assert "own_a* 2" in text and "| A | 2/3 (67 %) | 1/3 (33 %) |" in text


def test_sources_and_families_are_shortened() -> None:
    assert group_of("BIPIA benchmark/email/test.jsonl + text_attack_*.json") == "BIPIA email"
    assert group_of("AgentDojo 0.1.35 (suite slack, v1.2.1)") == "AgentDojo slack"
    assert group_of("npm:@playwright/mcp@0.0.83") == "real servers (npm)"
    assert family_of("indirect_injection:bipia:Reverse Text") == "Reverse Text"
    assert family_of(None) == "-"


def test_the_evasion_corpus_runs_through() -> None:
    rows = samples([Path(__file__).with_name("evasion.jsonl")])
    per = table([s for s in rows if s.kind == "tool_result"])
    assert sum(r.positives for r in per.values()) == sum(
        s.malicious for s in rows if s.kind == "tool_result"
    )
