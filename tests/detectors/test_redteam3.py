"""The blind red-team corpus (redteam3.jsonl) is what its generator writes, and well-formed.

No assertion on detection rates: the corpus is a measurement (docs/detection.md), not a goal.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from tests.detectors import redteam3

KINDS = {"tool_result": "text", "tool_description": "tool"}


def _rows() -> list[dict[str, Any]]:
    return [json.loads(line) for line in redteam3.OUT.read_text(encoding="utf-8").splitlines()]


def test_committed_file_is_the_generators_output() -> None:
    assert redteam3.OUT.read_text(encoding="utf-8") == redteam3.render()


def test_generator_is_deterministic() -> None:
    assert redteam3.render() == redteam3.render()


def test_every_row_is_a_well_formed_eval_sample() -> None:
    rows = _rows()
    assert len({r["id"] for r in rows}) == len(rows)
    for r in rows:
        assert r["kind"] in KINDS, r["id"]
        assert r["label"] in ("malicious", "benign"), r["id"]
        assert isinstance(r["source"], str) and r["source"], r["id"]
        assert (r["attack_type"] is None) == (r["label"] == "benign"), r["id"]
        payload = r[KINDS[r["kind"]]]
        if r["kind"] == "tool_result":
            assert isinstance(payload, str) and payload.strip(), r["id"]
        else:
            assert set(payload) == {"name", "description", "inputSchema"}, r["id"]
            assert payload["inputSchema"]["type"] == "object", r["id"]
            assert isinstance(payload["description"], str) and payload["description"], r["id"]


def test_texts_are_distinct() -> None:
    rows = _rows()
    texts = [r.get("text") or json.dumps(r.get("tool"), sort_keys=True) for r in rows]
    assert len(set(texts)) == len(texts)


def test_result_classes_are_balanced_and_large_enough() -> None:
    counts = Counter((r["source"], r["label"]) for r in _rows() if r["kind"] == "tool_result")
    classes = {s for s, _ in counts}
    assert len(classes) >= 10
    for cls in classes:
        assert counts[cls, "malicious"] >= 8, cls
        assert counts[cls, "benign"] == counts[cls, "malicious"], cls


def test_tool_descriptions_cover_the_families_both_ways() -> None:
    rows = [r for r in _rows() if r["kind"] == "tool_description"]
    labels = Counter(r["label"] for r in rows)
    assert labels["malicious"] >= 40 and labels["benign"] >= 40
    families = {r["attack_type"] for r in rows if r["attack_type"]}
    assert families == {
        "hidden_instruction",
        "exfiltration",
        "shadowing",
        "preference_manipulation",
    }
