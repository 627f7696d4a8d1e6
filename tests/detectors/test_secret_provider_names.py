"""A name with a digit under a provider's name alone is no credential (review of issue 23's
bare keys): where no format of the provider's is known, ``data.GENERATED`` takes letters and
digits, so ``sumologic: collector_v2_us_east_1_prod`` or ``image: mailgun:v2024-06-01-alpine3``
blocked a result. A value of three or more short pieces reads as a name; a generated value has
a long random run and is still found."""

from __future__ import annotations

import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ztmcp.detectors import secrets
from ztmcp.detectors.findings import RANK
from ztmcp.detectors.rules import secrets as data
from ztmcp.severity import Severity

_HIGH = RANK[Severity.HIGH]
_NO_FORMAT = [b.key for b in data.BARE_PROVIDERS if not b.formats and b.key.isalpha()]


def _blocking(text: str) -> list[str]:
    return [text[f.start : f.end] for f in secrets.scan(text) if RANK[f.severity] >= _HIGH]


def test_the_providers_without_a_format_are_the_ones_drawn() -> None:
    assert {"mailgun", "sumologic", "typeform", "yandex", "mapbox"} <= set(_NO_FORMAT)


@pytest.mark.parametrize(
    "text",
    [
        "sumologic: collector_v2_us_east_1_prod",
        "gocardless: sandbox-env-eu-west-2a",
        "services:\n  mailgun: mailgun-mock-server-v2-2024\n",
        "    image: mailgun:v2024-06-01-alpine3\n",
        "mailchimp=registry-mirror-2024-v3x",
        "mapbox: mapbox/streets-v11abc",
    ],
)
def test_a_name_with_a_version_under_a_providers_name_does_not_block(text: str) -> None:
    assert _blocking(text) == []


_WORDS = st.sampled_from(
    ["prod", "staging", "eu", "us", "west", "east", "v2", "v11", "2024", "06", "alpine3",
     "server", "mock", "collector", "streets", "rc1", "build7", "node18", "x86", "64"]
)  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(
    key=st.sampled_from(_NO_FORMAT),
    pieces=st.lists(_WORDS, min_size=3, max_size=7),
    sep=st.sampled_from("-_/"),
)
def test_any_name_of_short_pieces_is_refused(key: str, pieces: list[str], sep: str) -> None:
    assert _blocking(f"{key}: {sep.join(pieces)}\n") == []


_RANDOM = string.ascii_letters + string.digits


@settings(max_examples=150, deadline=None)
@given(
    key=st.sampled_from(_NO_FORMAT),
    prefix=st.sampled_from(["", "key-", "tfp_", "live_", "squ_"]),
    run=st.text(alphabet=_RANDOM, min_size=24, max_size=48).filter(
        lambda s: any(c.isdigit() for c in s) and sum(c.isalpha() for c in s) > len(s) // 2
    ),
)
def test_a_generated_value_with_a_long_run_is_still_found(key: str, prefix: str, run: str) -> None:
    value = prefix + run
    found = _blocking(f"{key}: {value}\n")
    # (the detector's other tests refuse a weak draw: ``_strong``; a strong one is found whole)
    assert found in ([], [value])
    if secrets._strong(value) and not secrets._a_word(value):
        assert found == [value]
