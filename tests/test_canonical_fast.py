"""``manifest.canonical_json`` (orjson for plain values) against RFC 8785's reference encoder.

Pins, manifests and the audit record's argument digest hash these bytes: for every value they
must be exactly ``rfc8785.dumps``'s, or fail as it does (``PinError``).
"""

from __future__ import annotations

from typing import Any

import pytest
import rfc8785
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ztmcp.errors import PinError
from ztmcp.manifest import canonical_json
from ztmcp.tool_arguments import _NOT_CANONICAL, digest

SETTINGS = settings(
    max_examples=400, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
TEXT = st.text(st.characters(codec=None, exclude_categories=()), max_size=10)
KEYS = st.text(st.characters(max_codepoint=127), max_size=6) | TEXT
VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**60), 2**60)
    | st.sampled_from([2**53 - 1, -(2**53) + 1, 2**53, 0, -0])
    | st.floats(allow_nan=False, allow_infinity=False)
    | TEXT,
    lambda c: st.lists(c, max_size=4) | st.dictionaries(KEYS, c, max_size=4),
    max_leaves=16,
)


def _reference(value: Any) -> Any:
    try:
        return rfc8785.dumps(value)
    except Exception:
        return "fails"


def _ours(value: Any) -> Any:
    try:
        return canonical_json(value)
    except PinError:
        return "fails"


@SETTINGS
@given(VALUES)
@example({"b": 1, "a": ["\x00\x1f\x7f\u2028\ud7ff\ue000\U0010ffff", '"\\/', None, True]})
@example({"z": {"y": {"x": [1, -(2**53) + 1]}}, "A": "", "": 0})
@example("\ud800")
def test_canonical_json_is_rfc8785(value: Any) -> None:
    assert _ours(value) == _reference(value)


def test_deep_values_keep_the_json_path() -> None:
    """orjson stops at 254 levels; the json path before it went on (its bytes are the same)."""
    value: Any = "x"
    for _ in range(300):
        value = [value]
    assert canonical_json(value) == b"[" * 300 + b'"x"' + b"]" * 300


@pytest.mark.parametrize("value", [{"message": "bench 1"}, {}, {"k": [1, 2, {"b": None}]}])
def test_the_argument_digest_is_over_the_canonical_bytes(value: Any) -> None:
    import hashlib

    assert digest(value) == hashlib.sha256(rfc8785.dumps(value)).hexdigest()
    assert _NOT_CANONICAL not in canonical_json(value)
