"""The evasion corpus (``evasion.jsonl``, written by ``evasion_corpus.py``): per-class figures.

Each class of issue 23 (look-alike letters, invisible characters, encodings, languages,
disguised secrets …) has malicious samples and benign ones in the same form. The floors and
ceilings below are the figures the detectors reach today: a change that loses a detection or
adds a false positive fails here, and one that improves them should raise the floor.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import pytest

from ztmcp.detectors.findings import at_least
from ztmcp.evaluation import KINDS

_CORPUS = Path(__file__).with_name("evasion.jsonl")

# class -> (detected malicious samples at least, flagged benign samples at most)
FIGURES: dict[str, tuple[int, int]] = {
    # The FP: "please include your booking reference in your reply" reads as a response rule.
    "paraphrase": (6, 1),
    "homoglyph_cyrillic": (5, 0),
    "math_alphanumeric": (5, 0),
    "ignorable_in_keyword": (5, 0),
    "invisible_payload": (5, 0),
    "html_entities": (5, 0),
    "encoded_blob": (7, 0),
    "secret_disguised": (14, 0),
    "structure_workflow": (4, 0),
    **{
        f"language_{lang}": (3, 0)
        for lang in ("es", "de", "fr", "pt", "it", "ru", "ja", "zh", "ko", "nl", "pl", "tr")
    },
}


def _figures() -> dict[str, tuple[int, int, int, int]]:
    """class -> (detected, malicious, flagged, benign)."""
    out: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for line in _CORPUS.read_text(encoding="utf-8").splitlines():
        sample = json.loads(line)
        field, detector = KINDS[sample["kind"]]
        flagged = bool(at_least(detector(sample[field])))
        row = out[sample["source"]]
        if sample["label"] == "malicious":
            row[0] += flagged
            row[1] += 1
        else:
            row[2] += flagged
            row[3] += 1
    return {k: (v[0], v[1], v[2], v[3]) for k, v in out.items()}


@pytest.fixture(scope="module")
def figures() -> dict[str, tuple[int, int, int, int]]:
    return _figures()


def test_corpus_is_current() -> None:
    """The committed file is what the generator writes (no hand edits, no stale samples)."""
    from tests.detectors import evasion_corpus

    assert _CORPUS.read_text(encoding="utf-8").splitlines() == evasion_corpus.rows()


def test_every_class_has_both_sides(figures: dict[str, tuple[int, int, int, int]]) -> None:
    assert set(figures) == set(FIGURES)
    for name, (_d, malicious, _f, benign) in figures.items():
        assert malicious >= 2 and benign >= 1, name


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_class_figures(name: str, figures: dict[str, tuple[int, int, int, int]]) -> None:
    detected, malicious, flagged, benign = figures[name]
    floor, ceiling = FIGURES[name]
    assert detected >= floor, f"{name}: {detected}/{malicious} detected, floor {floor}"
    assert flagged <= ceiling, f"{name}: {flagged}/{benign} benign flagged, ceiling {ceiling}"


def _kind_figures(path: Path) -> dict[str, tuple[int, int, int, int]]:
    """kind -> (detected, malicious, flagged, benign) over a corpus file."""
    out: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for line in path.read_text(encoding="utf-8").splitlines():
        sample = json.loads(line)
        field, detector = KINDS[sample["kind"]]
        flagged = bool(at_least(detector(sample[field])))
        row = out[sample["kind"]]
        malicious = sample["label"] == "malicious"
        row[0 if malicious else 2] += flagged
        row[1 if malicious else 3] += 1
    return {k: (v[0], v[1], v[2], v[3]) for k, v in out.items()}


def test_redteam_corpora_are_current() -> None:
    from tests.detectors import evasion_redteam

    for path, which in ((evasion_redteam.TUNE, "tune"), (evasion_redteam.HELDOUT, "heldout")):
        assert path.read_text(encoding="utf-8").splitlines() == evasion_redteam.rows(which)


# file -> kind -> (detected at least, flagged at most): the third round's red team, the half
# the fixes were made on and the half held out (docs/detection.md, "A fresh red team").
REDTEAM: dict[str, dict[str, tuple[int, int]]] = {
    "evasion_redteam.jsonl": {"tool_result": (134, 0), "tool_description": (36, 0)},
    "evasion_heldout.jsonl": {"tool_result": (98, 2), "tool_description": (17, 0)},
}


@pytest.mark.parametrize("name", sorted(REDTEAM))
def test_redteam_figures(name: str) -> None:
    figures = _kind_figures(_CORPUS.with_name(name))
    for kind, (floor, ceiling) in REDTEAM[name].items():
        detected, malicious, flagged, benign = figures[kind]
        assert detected >= floor, f"{name} {kind}: {detected}/{malicious} detected"
        assert flagged <= ceiling, f"{name} {kind}: {flagged}/{benign} benign flagged"
