"""Schema validation does bounded work on hostile schemas and arguments (issue 17).

Patterns run on RE2 (linear time); what RE2 cannot compile is refused, never handed to
Python's backtracking ``re``; every validation has a step budget; ``uniqueItems`` is linear.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ztmcp.checks import schema as schema_module
from ztmcp.checks.base import Action, Context, Verdict
from ztmcp.checks.schema import SchemaCheck
from ztmcp.testing import tool_call

CATASTROPHIC = "^(a|aa)+$"  # exponential for a backtracking engine on "aaa…ab"
LONG = "a" * 200_000


def check(schema: dict[str, Any], arguments: dict[str, Any]) -> Verdict | None:
    ctx = Context("srv", 0.0, extra={"tools": {"t": {"name": "t", "inputSchema": schema}}})
    return SchemaCheck().check(tool_call("t", arguments), ctx)


def obj(**properties: Any) -> dict[str, Any]:
    return {"type": "object", "properties": properties}


def test_a_catastrophic_pattern_is_evaluated_by_re2_on_a_long_string() -> None:
    schema = obj(a={"type": "string", "pattern": CATASTROPHIC})
    assert check(schema, {"a": LONG}) is None  # matches: evaluated, not skipped
    verdict = check(schema, {"a": LONG + "b"})
    assert verdict is not None and verdict.action is Action.DENY
    assert verdict.rule == "schema.arguments" and "(pattern)" in verdict.reason
    assert schema_module._re2.cache_info().currsize >= 1  # the pattern went through RE2


def test_pattern_properties_and_additional_properties_run_on_re2() -> None:
    schema = {
        "type": "object",
        "patternProperties": {CATASTROPHIC: {"type": "integer"}},
        "additionalProperties": False,
    }
    assert check(schema, {LONG[:50_000]: 1}) is None
    wrong_type = check(schema, {LONG[:50_000]: "x"})
    assert wrong_type is not None and "(type)" in wrong_type.reason
    extra = check(schema, {LONG[:50_000] + "b": 1})
    assert extra is not None and "(additionalProperties)" in extra.reason
    names = obj()
    names["propertyNames"] = {"pattern": CATASTROPHIC}
    assert check(names, {LONG[:50_000] + "b": 1}) is not None


@pytest.mark.parametrize(
    "pattern",
    [r"(a)\1", "(?=a)a", "(?<!b)a", "a{2000}{2000}", "(", "a++"],
)
def test_a_pattern_re2_cannot_run_is_refused_never_handed_to_re(pattern: str) -> None:
    for schema in (
        obj(a={"type": "string", "pattern": pattern}),
        {"type": "object", "patternProperties": {pattern: {}}},
    ):
        verdict = check(schema, {"a": "aa"})
        assert verdict is not None and verdict.action is Action.DENY
        assert verdict.rule == "schema.arguments.bad_pattern"


def test_unevaluated_properties_beside_pattern_properties_is_refused() -> None:
    schema = {"type": "object", "patternProperties": {"^a": {}}, "unevaluatedProperties": False}
    verdict = check(schema, {"a": 1})
    assert verdict is not None and verdict.rule == "schema.arguments.bad_pattern"


def test_a_nested_dialect_switch_is_refused() -> None:
    """A nested $schema would make jsonschema evaluate that part with its stock classes."""
    nested = {"$schema": "https://json-schema.org/draft/2020-12/schema", "pattern": CATASTROPHIC}
    verdict = check(obj(a=nested), {"a": "a" * 40 + "b"})
    assert verdict is not None and verdict.rule == "schema.arguments.bad_schema"
    root = {"$schema": "http://json-schema.org/draft-07/schema#", **obj(a={"pattern": "^a"})}
    assert check(root, {"a": "ab"}) is None  # a root $schema is fine


def test_exponential_references_exhaust_the_budget() -> None:
    defs: dict[str, Any] = {}
    for i in range(40):
        ref = {"$ref": f"#/$defs/l{i + 1}"}
        defs[f"l{i}"] = {"anyOf": [ref, ref]}
    defs["l40"] = {"type": "string"}
    verdict = check({"$defs": defs, "$ref": "#/$defs/l0"}, {"a": 1})
    assert verdict is not None and verdict.action is Action.DENY
    assert verdict.rule == "schema.arguments.unevaluable" and "steps" in verdict.reason


def test_unique_items_is_linear_and_follows_json_equality() -> None:
    schema = obj(rows={"type": "array", "uniqueItems": True})
    rows = [{"a": i, "b": [i, {"c": str(i)}]} for i in range(3000)]
    assert check(schema, {"rows": rows}) is None
    for duplicate in ({"a": 1, "b": [1, {"c": "1"}]}, {"b": [1.0, {"c": "1"}], "a": 1.0}):
        verdict = check(schema, {"rows": [*rows, duplicate]})
        assert verdict is not None and "(uniqueItems)" in verdict.reason
    assert check(schema, {"rows": [1, True, "1", None, [1], {"1": 1}]}) is None


@pytest.mark.parametrize(
    "items",
    [[1, 1.0], [[1], [1.0]], [{"a": 1}, {"a": 1.0}], [None, None], ["x", "x"]],
)
def test_unique_items_agrees_with_jsonschema(items: list[Any]) -> None:
    import jsonschema

    schema = {"type": "array", "uniqueItems": True}
    ours = check(obj(v=schema), {"v": items}) is None
    assert ours == jsonschema.Draft202012Validator(schema).is_valid(items)


def test_big_multiple_of_completes() -> None:
    verdict = check(obj(n={"multipleOf": 1e-308}), {"n": 1e308})
    assert verdict is not None and "(multipleOf)" in verdict.reason


_ATOMS = st.sampled_from(
    [
        "a",
        "b",
        "ab",
        ".",
        "[ab]",
        "[^a]",
        "a*",
        "b+",
        "a?",
        "(a|b)",
        "(ab)*",
        "^",
        "$",
        "x{1,2}",
        r"\d",
        r"\s",
    ]
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(_ATOMS, min_size=1, max_size=5).map("".join),
    st.text(st.sampled_from("abx1 "), max_size=12),
)
def test_re2_agrees_with_re_on_ascii_patterns(pattern: str, text: str) -> None:
    """Where both engines run the pattern, they accept the same strings. (One known
    difference is left out: Python's ``$`` also matches before a final newline; RE2's, like
    ECMA-262's that JSON Schema specifies, only at the end.)"""
    schema = obj(a={"type": "string", "pattern": pattern})
    assert (check(schema, {"a": text}) is None) == (re.search(pattern, text) is not None)
