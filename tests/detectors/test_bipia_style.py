"""The blind BIPIA-style corpus (bipia_style_*.jsonl) is what its generator writes, and sound.

No detector runs here: the corpus stays blind for whoever measures on it. These tests only
check the files load, the counts, that the halves share no document or instruction, and that
every attack sits verbatim in a document the benign side also holds untouched.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest

from tests.detectors import bipia_style as b


def squeeze(text: str) -> list[str]:
    """The text's characters, less layout (spaces, newlines, cell separators, CSV quotes)."""
    return sorted(ch for ch in text if ch not in ' \n|,"')


def load(half: str) -> list[dict[str, Any]]:
    text = b.OUT[half].read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines()]


@pytest.mark.parametrize("half", b.HALVES)
def test_committed_file_is_the_generator_output(half: str) -> None:
    assert b.OUT[half].read_text(encoding="utf-8") == b.render(half)


@pytest.mark.parametrize("half", b.HALVES)
def test_counts_and_format(half: str) -> None:
    rows = load(half)
    assert len({r["id"] for r in rows}) == len(rows)
    assert len({r["text"] for r in rows}) == len(rows)
    assert all(set(r) == {"id", "source", "kind", "label", "attack_type", "text"} for r in rows)
    assert all(r["kind"] == "tool_result" for r in rows)
    per = Counter((r["source"].rsplit(":", 1)[1], r["label"]) for r in rows)
    for cat in b.ATTACKS:
        assert per[(cat, "malicious")] == b.PER_HALF
        assert per[(cat, "benign")] == b.PER_HALF
    assert per[("clean", "benign")] == b.DOCS_PER_HALF
    assert len(b.ATTACKS) == 28
    for r in rows:
        _, carrier, cat = r["source"].split(":")
        assert carrier in {"email", "table"}
        if r["label"] == "malicious":
            assert r["attack_type"] == f"indirect_injection:{cat}"
        else:
            assert r["label"] == "benign" and r["attack_type"] is None


@pytest.mark.parametrize("half", b.HALVES)
def test_every_attack_is_one_insertion_into_a_clean_document(half: str) -> None:
    rows = load(half)
    clean = [r["text"] for r in rows if r["source"].endswith(":clean")]
    h = b.HALVES.index(half)
    for r in rows:
        if r["label"] != "malicious":
            continue
        cat = r["source"].rsplit(":", 1)[1]
        j = int(r["id"].rsplit(":m", 1)[1])
        attack = b.ATTACKS[cat][h * b.PER_HALF + j]
        assert r["text"].count(attack) == 1
        stripped = squeeze(r["text"].replace(attack, "", 1))
        # removing the attack (and the separators it brought) gives back an untouched document
        assert any(stripped == squeeze(c) for c in clean), r["id"]


def test_halves_share_no_document_or_instruction() -> None:
    tune, held = load("tune"), load("heldout")
    for rows_a, rows_b in ((tune, held), (held, tune)):
        clean_a = {r["text"] for r in rows_a if r["source"].endswith(":clean")}
        assert all(r["text"] not in clean_a for r in rows_b)
    for cat, attacks in b.ATTACKS.items():
        assert len(set(attacks)) == len(attacks), cat
        assert len(set(b.TWINS[cat])) == len(b.TWINS[cat]), cat
    first_lines = {
        half: {r["text"].split("\n", 1)[0] for r in load(half) if r["source"].endswith(":clean")}
        for half in b.HALVES
    }
    assert not first_lines["tune"] & first_lines["heldout"]


def test_generator_is_deterministic() -> None:
    assert b.render("tune") == b.render("tune")
    assert b.render("tune") != b.render("heldout")
