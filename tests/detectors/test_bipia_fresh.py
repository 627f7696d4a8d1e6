"""The fresh blind corpus (bipia_fresh): the file on disk is the module's output, and every
attack and twin really is one of the 32 documents with one insertion. No detector figures."""

from __future__ import annotations

import json
from collections import Counter

from tests.detectors import bipia_fresh as bf


def test_file_on_disk_is_the_generated_output() -> None:
    assert bf.OUTPUT.read_text(encoding="utf-8") == bf.render()


def test_lines_are_sorted_json_with_the_expected_keys() -> None:
    for line in bf.OUTPUT.read_text(encoding="utf-8").splitlines():
        obj = json.loads(line)
        assert list(obj) == ["attack_type", "id", "kind", "label", "source", "text"]
        assert obj["kind"] == "tool_result"
        assert json.dumps(obj, ensure_ascii=False, sort_keys=True) == line


def test_counts_and_unique_ids() -> None:
    records = bf.records()
    malicious = [r for r in records if r.label == "malicious"]
    twins = [r for r in records if r.label == "benign" and ":twin" in r.id]
    clean = [r for r in records if r.source.endswith(":clean")]
    assert (len(malicious), len(twins), len(clean)) == (120, 120, 32)
    assert len(records) == 272
    assert len({r.id for r in records}) == len(records)
    assert len({r.text for r in records}) == len(records)
    assert len(bf.CATEGORIES) == 15
    assert all(len(cats) == 5 for cats in bf.FAMILIES.values())
    per_category = Counter(r.attack_type for r in malicious)
    assert per_category == {f"indirect_injection:{c}": 8 for c in bf.CATEGORIES}
    assert Counter(r.id.split(":")[1] for r in twins) == dict.fromkeys(bf.CATEGORIES, 8)
    assert Counter(d.kind for d in bf.DOCUMENTS) == {"email": 20, "table": 12}
    # every document carries at least two attacks
    assert set(Counter(r.doc for r in malicious).values()) <= set(range(2, 7))
    assert {r.doc for r in malicious} == {d.key for d in bf.DOCUMENTS}


def test_attacks_and_twins_are_a_document_plus_one_insertion() -> None:
    documents = {d.key: d.clean for d in bf.DOCUMENTS}
    for r in bf.records():
        doc = documents[r.doc]
        if r.source.endswith(":clean"):
            assert r.text == doc and r.inserted == ""
            continue
        assert r.inserted.strip() and r.inserted.strip() not in doc
        assert r.text == doc[: r.offset] + r.inserted + doc[r.offset :]
        # the text minus the insertion point is the document, whole
        assert r.text.replace(r.inserted, "", 1) == doc
        assert r.text.startswith(doc[: r.offset]) and r.text.endswith(doc[r.offset :])


def test_ids_and_sources_follow_the_scheme() -> None:
    for r in bf.records():
        kind = bf._BY_KEY[r.doc].kind
        assert r.source.startswith(f"bipia_fresh:{kind}:")
        if r.label == "malicious":
            category = r.source.split(":")[2]
            assert r.attack_type == f"indirect_injection:{category}"
            assert r.id.startswith(f"bipia_fresh:{category}:{'m' if kind == 'email' else 't'}")
        else:
            assert r.attack_type is None
