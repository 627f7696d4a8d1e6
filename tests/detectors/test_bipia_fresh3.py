"""The bipia_fresh3 corpus on disk is what its module generates, with the promised shape."""

from __future__ import annotations

import json
from collections import Counter

from tests.detectors import bipia_fresh3


def test_file_on_disk_equals_generated() -> None:
    assert bipia_fresh3.OUTPUT.read_text(encoding="utf-8") == bipia_fresh3.render()


def test_counts_and_unique_ids() -> None:
    lines = bipia_fresh3.OUTPUT.read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines]
    ids = [r["id"] for r in records]
    assert len(ids) == len(set(ids))
    kinds = Counter(
        "clean"
        if r["id"].startswith("bipia_fresh3:clean:")
        else "twin"
        if ":twin" in r["id"]
        else "attack"
        for r in records
    )
    assert kinds == {"attack": 120, "twin": 120, "clean": 32}
    for r in records:
        assert sorted(r) == ["attack_type", "id", "kind", "label", "source", "text"]
        assert r["kind"] == "tool_result"
        malicious = r["label"] == "malicious"
        assert malicious == (r["attack_type"] is not None)
        assert malicious == (
            not r["id"].startswith("bipia_fresh3:clean:") and ":twin" not in r["id"]
        )
    categories = Counter(r["attack_type"] for r in records if r["attack_type"])
    assert len(categories) == 15
    assert set(categories.values()) == {8}
    sources = Counter(
        r["source"].split(":")[1] for r in records if r["id"].startswith("bipia_fresh3:clean:")
    )
    assert sources == {"email": 20, "table": 12}


def test_every_insertion_is_a_document_plus_one_passage() -> None:
    samples = bipia_fresh3.build()
    clean = {s.doc_index: s.record["text"] for s in samples if not s.passage}
    assert len(clean) == len(bipia_fresh3.DOCS)
    for s in samples:
        if not s.passage:
            continue
        text, doc = s.record["text"], clean[s.doc_index]
        assert isinstance(text, str) and isinstance(doc, str)
        assert len(text) == len(doc) + len(s.passage)
        # Some occurrence of the passage, cut out, leaves exactly the document.
        starts = [i for i in range(len(text)) if text.startswith(s.passage, i)]
        assert any(text[:i] + text[i + len(s.passage) :] == doc for i in starts), s.record["id"]
        assert s.passage.strip() and s.passage.strip() not in doc


def test_twin_sits_where_its_attack_sits() -> None:
    samples = bipia_fresh3.build()
    attacks = {str(s.record["id"]): s for s in samples if s.record["label"] == "malicious"}
    for s in samples:
        rid = s.record["id"]
        assert isinstance(rid, str)
        if ":twin" not in rid:
            continue
        category, number = rid.split(":")[1], rid.rsplit("twin", 1)[1]
        pair = [
            a
            for i, a in attacks.items()
            if i.split(":")[1] == category and i.rsplit(":", 1)[1][1:] == number
        ]
        assert len(pair) == 1
        assert pair[0].doc_index == s.doc_index
