"""Every gitleaks rule and detect-secrets plugin dev does not hold is found in the forms a tool
argument carries it in, and what a scanner's false positives look like stays quiet
(``secret_rulesets``: each rule's format, read from the rule sets' regexes, drawn with a seed).

The seeded corpus pins recall per rule; the measured misses (``KNOWN_MISSES``) must still be
misses, so that the list says what the engine does; hypothesis draws filler after each rule's
prefix.
"""

from __future__ import annotations

import random
import re
import string
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.detectors import secret_rulesets as rs
from ztmcp.detectors.rules import secrets_values as values

_POS, _NEAR = rs.measure(seed=23, per_rule=6)
_RULES = sorted({s.rule for s in rs.SPECS})

# gitleaks' own regexes for these want the provider's name in the key, and their prefix alone
# (``live_``, ``test_pub_``, 22 ``A``) is no provider's: bare in prose they are not reported.
_PROSE_NEEDS_A_KEY = {
    "gitleaks:gocardless-api-token",
    "gitleaks:lob-pub-api-key",
    "gitleaks:twitter-bearer-token",
}
# detect-secrets' Artifactory plugin reports ``AKC…`` as it defines it (its own positives are
# ``AKCxxxxxxxxxx``), filler included.
_FILLER_BLOCKS = {"gitleaks:artifactory-api-key"}


def _rows(rule: str, prose: bool) -> list[rs.Result]:
    return [r for r in _POS if r.rule == rule and (r.form == "prose") == prose]


@pytest.mark.parametrize("rule", [r for r in _RULES if r not in rs.KNOWN_MISSES])
def test_every_covered_rule_blocks_in_every_keyed_form(rule: str) -> None:
    missed = [(r.form, r.text) for r in _rows(rule, prose=False) if not r.blocked]
    assert missed == []


@pytest.mark.parametrize(
    "spec",
    [
        s
        for s in rs.SPECS
        if s.key is not None
        and len(s.prefix) >= 3
        and s.rule not in rs.KNOWN_MISSES
        and s.rule not in _PROSE_NEEDS_A_KEY
    ],
    ids=lambda s: s.rule,
)
def test_a_prefixed_format_blocks_bare_in_prose(spec: rs.Spec) -> None:
    rng = random.Random(spec.template)
    for _ in range(3):
        text = dict(rs.wrap(spec, rs.fill(spec.template, rng)))["prose"]
        assert rs.blocking(text), text


@pytest.mark.parametrize("rule", sorted(rs.KNOWN_MISSES))
def test_a_known_miss_is_still_missed(rule: str) -> None:
    """A rule that the engine now finds in every form comes off the list (and into the docs)."""
    assert rule in _RULES
    assert not all(r.blocked for r in _rows(rule, prose=False))


def test_the_identifiers_left_quiet_block_under_a_credential_key() -> None:
    """The client ids are quiet for their key's sake, not their value's."""
    rng = random.Random(7)
    for spec in rs.SPECS:
        if spec.rule in rs.KNOWN_MISSES and (spec.key or "").endswith("_id"):
            if spec.rule == "gitleaks:asana-client-id":  # 16 digits: a number anywhere
                continue
            cred = rs.as_credential(spec)
            for form, text in rs.wrap(cred, rs.fill(cred.template, rng)):
                assert form == "prose" or rs.blocking(text), text


def test_recall_over_all_rules_and_near_miss_bounds() -> None:
    keyed = [r for r in _POS if r.form != "prose"]
    assert len(_RULES) >= 160
    assert sum(r.blocked for r in keyed) / len(keyed) >= 0.94
    kinds: dict[str, list[bool]] = {}
    for r in _NEAR:
        kinds.setdefault(r.form.split("/")[0], []).append(r.blocked)
    # filler after a prefix: Artifactory's detect-secrets shape, and the prefixes that look
    # generated (PyPI's, Sentry's, Twitter's 22 ``A``), 4 forms each
    assert sum(kinds["xxxx"]) <= 8
    for kind in ("example", "digits"):
        assert sum(kinds[kind]) <= 16, kind
    # a shape's prefix and a word is a placeholder (``dop_v1_configuration``); Okta's ``00``,
    # which no shape of ours has as a prefix, blocks in 3 forms (67 before: 2026-12-07)
    assert sum(kinds["word"]) <= 3


def _hand_written(prefix: str) -> bool:
    """A prefix the filler rule vouches for: each piece short or reading as written by hand
    (``pypi-AgEIcHlwaS5vcmc``, ``sntrys_eyJpYXQiO``, 22 ``A`` are literal, but look generated,
    and a placeholder after them still blocks)."""
    pieces = re.split(r"[^A-Za-z0-9]+", prefix)
    return all(len(p) <= 6 or not values.generated_piece(p) for p in pieces)


_KEYED_SPECS = [
    s
    for s in rs.SPECS
    if s.key is not None
    and s.rule not in _FILLER_BLOCKS
    and "{" in s.template
    and _hand_written(s.prefix)
]


@settings(max_examples=300, deadline=None)
@given(
    spec=st.sampled_from(_KEYED_SPECS),
    unit=st.text(alphabet=rs.ALPHABETS["A"], min_size=2, max_size=10).filter(
        lambda u: len(set(u)) > 1
    ),
    data=st.data(),
)
def test_filler_after_a_rules_prefix_is_quiet(
    spec: rs.Spec, unit: str, data: st.DataObject
) -> None:
    """``<prefix>EXAMPLEEXAMPLE…``, ``<prefix>1234567890…``, ``<prefix>xyxy…``: a unit of 2
    to 10 characters repeated 8 characters past its first copy is a placeholder in any form."""
    n = max(rs._random_length(spec.template), len(unit) * 2 + 8)
    low = max(len(unit) + 8, 2 * len(unit))
    length = data.draw(st.integers(low, max(low, n)), label="length")
    value = spec.prefix + (unit * (length // len(unit) + 1))[:length]
    for form, text in rs.wrap(spec, value):
        # (the secrets rules only: digits repeated may pass the card checksum, and a card
        # number is the PII rule's to report, ``4747474747474747``: hypothesis drew it)
        assert not _secret_blocking(text), (form, text)


@settings(max_examples=200, deadline=None)
@given(spec=st.sampled_from(_KEYED_SPECS), start=st.integers(0, 9), length=st.integers(12, 64))
def test_digits_counting_up_after_a_rules_prefix_are_quiet(
    spec: rs.Spec, start: int, length: int
) -> None:
    """Digits counting up after a format's prefix are filler, for the secrets rules. (A run
    that passes the card checksum, ``4567890123456789012``, is the card rule's to report: the
    PII detector judges digits, not this reading.)"""
    value = spec.prefix + ("0123456789" * 8)[start : start + length]
    for form, text in rs.wrap(spec, value):
        assert not _secret_blocking(text), (form, text)


def _secret_blocking(text: str) -> list[str]:
    """The blocking findings of the secrets detector alone on ``text`` as a tool argument."""
    from ztmcp.detectors import scan_arguments
    from ztmcp.detectors.findings import RANK
    from ztmcp.severity import Severity

    return [
        f.rule
        for f in scan_arguments({"content": text})
        if RANK[f.severity] >= RANK[Severity.HIGH] and not f.rule.startswith("pii.")
    ]


@pytest.mark.parametrize(
    "text",
    [
        "4567890123456789012",  # digits counting up
        '{"adafruit_api_key": "4747474747474747"}',  # a unit repeated after an empty prefix
    ],
)
def test_a_card_number_in_filler_digits_is_the_card_rules_finding(text: str) -> None:
    # The examples hypothesis found: Luhn-valid, so the PII rule reports them, not a secret rule.
    from ztmcp.detectors import scan_arguments

    assert [f.rule for f in scan_arguments({"content": text})] == ["pii.card_number"]
    assert not _secret_blocking(text)


def test_one_character_repeated_after_a_prefix_is_judged_as_before() -> None:
    """The rule sets' own positives include a format's prefix and one character repeated; the
    filler rule leaves that to the test it had (``<prefix>_`` then at most two characters)."""
    assert rs.blocking("AGE-SECRET-KEY-1" + "P" * 58)
    assert not rs.blocking("github_token: ghp_" + "x" * 36)
    # and filler glued after a generated key does not hide it
    key = rs.fill("{A:32}", random.Random(3))
    for filler in ("EXAMPLE" * 3, "1234567890" * 2, "/billing/billing"):
        assert rs.blocking(f"api_key: {key}{filler}"), filler


def _filler_by_hand(value: str) -> bool:
    """``secrets._filler_tail`` written the slow way: every period, character by character."""
    v = value.rstrip("=")
    n = len(v)
    ends = []
    for p in range(2, 11):
        i = n - 1 - p
        while i >= 0 and v[i] == v[i + p]:
            i -= 1
        tail = n - 1 - i
        if tail >= max(p + 8, 2 * p) and len(set(v[n - p :])) > 1:
            ends.append(i + 1)
    run = 1  # the characters counting up at the end, each pair from the last, 63 at most
    for a, b in reversed(list(pairwise(v))):
        if run >= 63 or not (ord(b) - ord(a) == 1 or a + b == "90"):
            break
        run += 1
    if n and run >= 12:
        ends.append(n - run)
    if not ends:
        return False
    pieces = re.split(r"[^A-Za-z0-9]+", v[: min(ends)])
    return all(len(p) <= 6 or not values.generated_piece(p) for p in pieces)


@settings(max_examples=500, deadline=None)
@given(
    head=st.text(alphabet="abAB01_-.x", max_size=24),
    unit=st.text(alphabet="abAB01x", min_size=1, max_size=10),
    copies=st.integers(0, 6),
    counting=st.tuples(
        st.sampled_from(["0123456789" * 8, string.ascii_letters]), st.integers(0, 9)
    ).flatmap(lambda c: st.integers(0, 70).map(lambda k: c[0][c[1] : c[1] + k])),
    tail=st.text(alphabet="abAB01", max_size=3),
    counting_last=st.booleans(),
)
def test_the_filler_test_agrees_with_a_slow_one(
    head: str, unit: str, copies: int, counting: str, tail: str, counting_last: bool
) -> None:
    """Differential: the halving search, the skipped multiples and the one head read give the
    answer of the character-by-character loop over every period; the run counting up is
    drawn too (up to 70 characters: the test reads 63 at most), and read pair by pair."""
    from ztmcp.detectors.secrets import _filler_tail

    value = head + unit * copies + (tail + counting if counting_last else counting + tail)
    assert _filler_tail(value) == _filler_by_hand(value), value
