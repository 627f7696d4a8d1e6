"""The bipia_fresh2 corpus on disk is what its generator writes, and every attack is an insertion.

No detector figure here: this only checks the file's shape and that the documents are real
documents with one passage inserted.
"""

from __future__ import annotations

import json
from collections import Counter

from tests.detectors import bipia_fresh2 as corpus


def _rows() -> list[dict[str, str | None]]:
    lines = corpus.OUTPUT.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


def test_file_on_disk_is_the_generated_one() -> None:
    assert corpus.OUTPUT.read_text(encoding="utf-8") == corpus.dumps()


def test_counts_and_unique_ids() -> None:
    rows = _rows()
    labels = Counter((r["label"], r["attack_type"] is None) for r in rows)
    assert labels[("malicious", False)] == 120
    assert sum(1 for r in rows if str(r["id"]).split(":")[-1].startswith("twin")) == 120
    assert sum(1 for r in rows if str(r["source"]).endswith(":clean")) == 32
    assert len(rows) == 272
    assert len({r["id"] for r in rows}) == len(rows)
    per_category = Counter(r["attack_type"] for r in rows if r["label"] == "malicious")
    assert set(per_category.values()) == {8}
    assert len(per_category) == 15
    assert all(r["kind"] == "tool_result" for r in rows)
    assert sum(1 for d in corpus.DOCUMENTS if d.kind == "email") == 20
    assert sum(1 for d in corpus.DOCUMENTS if d.kind == "table") == 12


def test_every_document_carries_an_attack() -> None:
    used = {ins.doc.key for ins in corpus.ATTACK_INSERTIONS}
    assert used == {d.key for d in corpus.DOCUMENTS}


def test_each_passage_is_inserted_into_its_document() -> None:
    for ins in corpus.ATTACK_INSERTIONS + corpus.TWIN_INSERTIONS:
        text = ins.render()
        base = corpus.clean(ins.doc)
        assert "{" + ins.slot + "}" not in text
        assert text.count(ins.inserted) == 1, ins.text
        start = text.index(ins.inserted)
        assert text[:start] + text[start + len(ins.inserted) :] == base
        assert len(base) > 300


def test_texts_are_distinct_and_clean_documents_have_no_marker() -> None:
    rows = _rows()
    assert len({r["text"] for r in rows}) == len(rows)
    for doc in corpus.DOCUMENTS:
        for name in doc.slots:
            assert "{" + name + "}" in doc.template
        assert "{" not in corpus.clean(doc)
