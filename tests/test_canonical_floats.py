"""``manifest.canonical_json`` for values with floats, against RFC 8785's reference encoder.

Whole-number floats within ±(2**53 - 1) are written as the integer and fractions with
1e-4 <= |x| < 1e16 by orjson (``manifest._with_floats``); every other float goes to
``rfc8785``. Each must give ``rfc8785.dumps``'s bytes, or fail as it does.
"""

from __future__ import annotations

import math
from typing import Any

import rfc8785
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.test_canonical_fast import KEYS, TEXT, _ours, _reference
from ztmcp.manifest import _with_floats

SETTINGS = settings(
    max_examples=600, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
_EDGES = [
    0.0, -0.0, 1.0, -1.0, 0.5, 1e-4, -1e-4, 9.999999999999999e-05, 1.0000000000000002e-4,
    1e-7, 1e-5, 5e-324, 1e16, 9999999999999998.0, 1e15 + 0.5, 2.0**53 - 1, 2.0**53, -(2.0**53),
    2.0**53 + 2, 1e21, 1e20, 0.1 + 0.2, 123456789.123, 1.5e300, math.pi, math.inf, math.nan,
]  # fmt: skip
FLOATS = (
    st.sampled_from(_EDGES)
    | st.floats()
    | st.floats(min_value=-1e17, max_value=1e17)
    | st.floats(min_value=-1e-3, max_value=1e-3)
    | st.integers(-(2**54), 2**54).map(float)
)
VALUES = st.recursive(
    FLOATS | st.none() | st.booleans() | st.integers(-(2**54), 2**54) | TEXT,
    lambda c: st.lists(c, max_size=4) | st.dictionaries(KEYS, c, max_size=4),
    max_leaves=12,
)


@SETTINGS
@given(VALUES)
@example({"lat": 52.52, "lon": 13.405, "zoom": 12.0, "q": "berlin"})
@example([-0.0, 2.0**53 - 1, 1e-4, 9999999999999998.0])
def test_values_with_floats_are_rfc8785(value: Any) -> None:
    assert _ours(value) == _reference(value)


@settings(max_examples=1000, deadline=None, database=None)
@given(FLOATS)
def test_each_float_the_fast_path_takes_is_spelt_as_rfc8785(number: float) -> None:
    fast = _with_floats([number])
    if fast is not None:
        assert fast == rfc8785.dumps([number])


def test_the_fast_path_takes_the_usual_arguments_and_leaves_the_rest() -> None:
    assert _with_floats({"a": 1.5, "b": [2.0, -0.0], "c": "x"}) == b'{"a":1.5,"b":[2,0],"c":"x"}'
    for odd in (1e-5, 1e16, 2.0**53, math.nan, math.inf):
        assert _with_floats({"a": odd}) is None
    assert _with_floats({"é": 1.5}) is None  # non-ASCII keys: UTF-16 order is rfc8785's
