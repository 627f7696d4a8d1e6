"""The JSONC reader: values as ``json`` reads them, exact spans, comments kept, refusals."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ztmcp.clients import jsonc
from ztmcp.clients.jsonc import ConfigError

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


def _spans_match(text: str, node: jsonc.Node) -> None:
    assert json.loads(text[node.start : node.end]) == node.value
    for member in node.members:
        _spans_match(text, member.value)
    for item in node.items:
        _spans_match(text, item)


@settings(max_examples=200, deadline=None)
@given(json_values, st.sampled_from([None, 1, 4]))
def test_reads_every_json_document_as_json_does(value: Any, indent: int | None) -> None:
    text = json.dumps(value, indent=indent, ensure_ascii=False)
    node = jsonc.parse(text)
    assert node.value == json.loads(text)
    _spans_match(text, node)


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.text(min_size=1), st.text(), min_size=1, max_size=5), st.text())
def test_comments_and_trailing_commas_are_read_and_kept(entries: dict[str, str], note: str) -> None:
    note = note.replace("\n", " ").replace("*/", "")
    body = "".join(
        f"  // {note}\n  {json.dumps(k)}: /* {note} */ {json.dumps(v)},\n"
        for k, v in entries.items()
    )
    text = f"/* {note} */\n{{\n{body}}}\n// end\n"
    node = jsonc.parse(text)
    assert node.value == entries
    first = node.members[0]
    edited = jsonc.splice(text, [(first.value.start, first.value.end, '"changed"')])
    assert jsonc.parse(edited).value == {**entries, first.key: "changed"}
    # Only the value's span changed: the text around it is the same bytes.
    assert edited[: first.value.start] == text[: first.value.start]
    assert edited[first.value.start + len('"changed"') :] == text[first.value.end :]


@pytest.mark.parametrize(
    "text",
    [
        '{"a": 1, "a": 2}',
        '{"a": 1} x',
        "{/* open",
        '{"a": NaN}',
        '{"a": -Infinity}',
        "{'a': 1}",
        '{"a" 1}',
        "[1 2]",
        "[" * 100 + "]" * 100,
        "",
        '{"a": "unterminated}',
    ],
)
def test_refuses_what_it_cannot_read_exactly(text: str) -> None:
    with pytest.raises(ConfigError):
        jsonc.parse(text)


def test_overlapping_edits_are_refused() -> None:
    with pytest.raises(ConfigError):
        jsonc.splice("abcdef", [(0, 3, "x"), (2, 4, "y")])
