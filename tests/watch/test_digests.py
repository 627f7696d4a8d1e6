"""The argument digest a model's tool call and an MCP ``tools/call`` share, so they link.

Differential: the model side digests the arguments as the model wrote them (JSON text, any
spacing and key order, or a value); the MCP side is what a real ``Session`` writes on the
``tools/call`` request record for the same arguments after an agent re-encoded them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ztmcp.checks.envelope import EnvelopeCheck
from ztmcp.jsonrpc import Direction
from ztmcp.session import Session
from ztmcp.state.audit import AuditLog, read_records
from ztmcp.tool_arguments import ARGS_FIELD, arguments_digest, digest, mcp_call_fields

SAFE = 2**53 - 1
keys = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=8)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(-SAFE, SAFE)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(st.characters(exclude_categories=("Cs",)), max_size=20)
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4),
    max_leaves=20,
)
arguments = st.dictionaries(keys, values, max_size=5)


def _objects(inner: st.SearchStrategy[object], size: int) -> st.SearchStrategy[dict[str, object]]:
    """Objects the strict decoder accepts: no two keys that differ only in case."""
    pairs = st.lists(st.tuples(keys, inner), max_size=size, unique_by=lambda kv: kv[0].lower())
    return pairs.map(dict)


decodable_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | _objects(inner, 4),
    max_leaves=20,
)
decodable_arguments = _objects(decodable_values, 5)


@given(arguments, st.sampled_from([None, 2]), st.booleans(), st.randoms())
def test_the_same_arguments_in_any_spelling_give_one_digest(
    args: dict[str, Any], indent: int | None, ascii_only: bool, rnd: Any
) -> None:
    items = list(args.items())
    rnd.shuffle(items)
    text = json.dumps(dict(items), indent=indent, ensure_ascii=ascii_only)
    assert arguments_digest(text) == arguments_digest(args) == digest(json.loads(text))


def test_number_spelling_does_not_matter_but_values_do() -> None:
    assert arguments_digest('{"n": 1.0}') == arguments_digest('{"n":1}') == digest({"n": 1})
    assert arguments_digest('{"n": 1e2}') == digest({"n": 100})
    assert digest({"n": 1}) != digest({"n": 2}) != digest({"n": "2"})
    assert mcp_call_fields({"name": "t"}) == {ARGS_FIELD: digest({})}
    assert mcp_call_fields("not params") == {ARGS_FIELD: digest({})}


@given(
    st.one_of(
        values,
        st.just(float("nan")),
        st.just(2**60),
        st.just({"deep": [[[[[[]]]]]] * 3}),
        st.text(),  # lone surrogates included
        st.binary().map(lambda b: b.decode("latin-1")),
    )
)
def test_a_digest_never_raises(value: Any) -> None:
    assert len(digest(value)) == 64
    assert len(arguments_digest(value)) == 64
    text = value if isinstance(value, str) else "{"
    assert len(arguments_digest(text)) == 64


def test_no_canonical_form_never_matches_a_canonical_one() -> None:
    assert digest(float("nan")) != digest("nan") and digest(2**60) != digest(2**60 + 1)
    assert arguments_digest("{" + "[" * 100000) != digest("{")  # too deep for json.loads


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(decodable_arguments)
def test_the_session_records_the_digest_the_model_side_computes(
    tmp_path: Path, args: dict[str, Any]
) -> None:
    audit = AuditLog.create(tmp_path / "audit", "digest")
    session = Session("digest", [EnvelopeCheck()], audit)
    # the model wrote the arguments its way; the agent re-encoded them for MCP its own way
    model_text = json.dumps(args, indent=1, ensure_ascii=True)
    frame = json.dumps(
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "tools/call",
            "params": {"name": "t", "arguments": args},
        },
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode()
    session.handle(Direction.TO_SERVER, frame)
    session.handle(
        Direction.TO_CLIENT,
        json.dumps({"jsonrpc": "2.0", "id": 1, "result": {"content": []}}).encode(),
    )
    session.close("done")
    records = [r for r in read_records([audit.path]) if r.get("mcp.method.name") == "tools/call"]
    request = [r for r in records if r["kind"] == "request"]
    assert len(request) == 1 and request[0]["outcome"] == "forwarded"
    assert request[0][ARGS_FIELD] == arguments_digest(model_text)
    assert all(ARGS_FIELD not in r for r in records if r["kind"] != "request")
