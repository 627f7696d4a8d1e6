"""A provider's prefix followed by words is a placeholder, not a key (issue 23).

``sk_live_configuration``, ``dop_v1_configuration``, ``p8e-configuration``: documentation,
tests and config templates keep a provider's literal prefix and write words after it; a real
token's remainder is generated. The prefixes are the shapes' own (read from the rules' regexes:
``secrets._literal_prefixes``); the words are read as ``values.random_letters`` reads them.
Hypothesis draws both sides: words after every prefix are quiet in every keyed form, and every
rule set format's generated remainder (its alphabet and length) is never read as words.
"""

from __future__ import annotations

import random
import re

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from tests.detectors import secret_rulesets as rs
from ztmcp.detectors import secrets
from ztmcp.detectors.rules import secrets as data
from ztmcp.detectors.rules import secrets_values as values

_PREFIXES = tuple(p for ps in secrets._provider_prefixes().values() for p in ps)

# Words templates and documentation write after a prefix (none of them a placeholder mark of
# ``secrets._PLACEHOLDER`` by itself, so that the reading under test is the one that counts).
_VOCABULARY = (
    "configuration",
    "placeholder",
    "sandbox",
    "testing",
    "development",
    "staging",
    "secret",
    "token",
    "value",
    "local",
    "default",
    "demo",
    "documentation",
    "server",
    "client",
    "service",
    "integration",
    "access",
    "webhook",
    "account",
    "settings",
    "postgresql",
)


def _styled(word: str, style: int) -> str:
    return (word, word.upper(), word.capitalize())[style]


@st.composite
def _written(draw: st.DrawFn) -> str:
    """One to three pieces, ``._-`` between them: a word in one case, or one to three words
    in CamelCase, and perhaps a number of one to three digits at the end of a piece."""
    pieces = []
    for _ in range(draw(st.integers(1, 3))):
        style = draw(st.integers(0, 3))
        most = 1 if style < 2 else 3
        words = draw(st.lists(st.sampled_from(_VOCABULARY), min_size=1, max_size=most))
        piece = (
            words[0] + "".join(w.capitalize() for w in words[1:])
            if style == 3
            else "".join(_styled(w, style) for w in words)
        )
        if draw(st.booleans()):
            piece += str(draw(st.integers(0, 999)))
        pieces.append(piece)
    seps = draw(st.lists(st.sampled_from("._-"), min_size=len(pieces), max_size=len(pieces)))
    return "".join(p + s for p, s in zip(pieces, seps, strict=True))[:-1]


# The rule sets' keyed formats whose literal text is a shape's prefix (or one and a short
# number: ``glrt-t1_``): those where ``<prefix>configuration`` is read as a placeholder, not
# the ones whose text reads as words whole (``npm_``, ``live_``) or starts with a shape's
# prefix and goes on generated (Twitter's 22 ``A`` after FCM's ``AAAA``). (detect-secrets'
# Artifactory shape reports ``AKC…`` by its format alone, as that plugin defines it: a number
# after the words there blocks, as filler does; ``test_secret_rulesets._FILLER_BLOCKS``.)
_PREFIXED_SPECS = [
    s
    for s in rs.SPECS
    if s.key is not None
    and "{" in s.template
    and secrets._prefixed_words(s.prefix + "configuration")
    and s.rule != "gitleaks:artifactory-api-key"
]


def test_the_prefixed_formats_are_most_of_the_rule_sets_prefixes() -> None:
    assert len(_PREFIXED_SPECS) >= 50


def test_the_measured_near_misses_are_quiet() -> None:
    """The near-misses ``secret_rulesets`` lists that blocked before (67 of 632): a provider's
    prefix and ``configuration`` under the provider's key."""
    for value, key in (
        ("sk_live_configuration", "stripe_secret_key"),
        ("dop_v1_configuration", "digitalocean_pat"),
        ("p8e-configuration", "adobe_client_secret"),
        ("cmVmdconfiguration", "artifactory_token"),
        ("SKconfiguration", "twilio_api_key"),
        ("glrt-t1_configuration", "gitlab_runner_token"),
        ("sntrys_eyJpYXQiOconfiguration", "sentry_auth_token"),
        ("eyJrIjoiconfiguration", "grafana_api_key"),
        ("dp.pt.configuration", "doppler_token"),
        ("hvb.configuration", "vault_token"),
    ):
        for text in (f'{{"{key}": "{value}"}}', f"export {key.upper()}={value}", f"{key}: {value}"):
            assert not rs.blocking(text), text
    assert not rs.blocking("I set it to sk_live_configuration yesterday")


@settings(max_examples=300, deadline=None)
@given(spec=st.sampled_from(_PREFIXED_SPECS), words=_written())
def test_words_after_a_rules_prefix_are_quiet(spec: rs.Spec, words: str) -> None:
    """(A value that reads as words whole, ``patconfiguration0``, is judged as a password
    would be: the prefix is what makes it a provider's placeholder.)"""
    value = spec.prefix + words
    assume(not values.written_in_words(value))
    for form, text in rs.wrap(spec, value):
        if form != "prose":
            assert not rs.blocking(text), (form, text)


@settings(max_examples=500, deadline=None)
@given(prefix=st.sampled_from(_PREFIXES), words=_written())
def test_every_prefix_then_words_is_a_placeholder(prefix: str, words: str) -> None:
    """Unless the whole reads as words itself (``npm_configuration``, ``patconfiguration``:
    the prefix is a word's start), which the word tests judge as before."""
    value = prefix + words
    assert secrets.is_placeholder(value) or values.written_in_words(value), value


_DRAWN_SPECS = [s for s in rs.SPECS if s.key is not None and "{" in s.template]


@settings(max_examples=3000, deadline=None)
@given(spec=st.sampled_from(_DRAWN_SPECS), seed=st.integers(0, 2**32))
def test_a_generated_remainder_is_not_read_as_words(spec: rs.Spec, seed: int) -> None:
    """Every format's alphabet and length: a drawn key is never a prefix and words (measured
    on 632,000 draws: none; ``docs/detection.md``)."""
    value = rs.fill(spec.template, random.Random(seed))
    assert not secrets._prefixed_words(value), value


@pytest.mark.parametrize("seed", range(3))
def test_generated_keys_after_a_prefix_block_as_before(seed: int) -> None:
    """End to end: the drawn positives of every prefixed format still block under their key."""
    rng = random.Random(seed)
    for spec in _PREFIXED_SPECS:
        if spec.rule in rs.KNOWN_MISSES:
            continue
        value = rs.fill(spec.template, rng)
        text = dict(rs.wrap(spec, value))["json"]
        assert rs.blocking(text), text


def test_every_match_starts_with_one_of_its_shapes_prefixes() -> None:
    """The prefixes read from a regex are literal and complete: each secret a shape finds in
    the rule sets' drawn positives starts with one of them (an alternation or a class left out,
    or a character read as literal that is not, would show here)."""
    positives = [r.text for r in rs.measure(seed=5, per_rule=2)[0]]
    checked = 0
    for rule in data.RULES:
        prefixes = secrets._literal_prefixes(rule.pattern)
        if not prefixes:
            continue
        rx = re.compile(rule.pattern)
        for text in positives:
            for m in rx.finditer(text):
                assert m.group(1).startswith(tuple(prefixes)), (rule.rule, m.group(1))
                checked += 1
    assert checked > 300


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        (r"(?<![A-Za-z0-9_])(do[opr]_v1_[a-f0-9]{64})", {"doo_v1_", "dop_v1_", "dor_v1_"}),
        (
            r"((?:sk|rk)_(?:test|live)_[A-Za-z0-9]{10,99})",
            {"sk_test_", "sk_live_", "rk_test_", "rk_live_"},
        ),
        (r"((?:gldt|glrt)-[A-Za-z0-9_-]{20}|glimt-[0-9]{25})", {"gldt-", "glrt-", "glimt-"}),
        (r"(glrt-t\d_[0-9a-z]{27})", {"glrt-t"}),
        (r"(FLWSECK_TEST-?[a-h0-9]{12})", {"FLWSECK_TEST"}),
        (r"(t1\.[A-Za-z0-9_-]+={0,2})", {"t1."}),
        (r"([A-Z][A-Za-z0-9_-]{23,25})", set()),
        (r"(?i:https?://x/)(session_[A-Za-z0-9]{16,})", {"session_"}),
        (r"(?:(?<=[\s=:\"])|^)(AP[0-9A-F][A-Za-z0-9]{8,})", {"AP"}),
        (r"(s\.(?=[A-Za-z0-9]{0,23}[0-9])[A-Za-z0-9]{24})", {"s."}),
        (r"(ab(?:c|d)?e)", {"ab"}),
    ],
)
def test_literal_prefixes_of_a_regex(pattern: str, expected: set[str]) -> None:
    assert secrets._literal_prefixes(pattern) == expected


def test_a_remainder_written_in_words() -> None:
    for rest in ("configuration", "test_value.Key2", "CONFIGURATION", "ExampleToken", "1_config"):
        assert values.written_in_words(rest), rest
    for rest in (
        "gefa86cfa523",  # a digit inside a piece
        "bboOYXCbsuXycDOT",  # case changing as no name does
        "configuration2024",  # a number longer than a few digits
        "hwnhentwthgnfvll",  # consonants no word runs together
        "pzarjdykejrfsmbozgix",  # a run of one case longer than a word's
        "rjuraus",  # no word starts so
        "feafgeaef027",  # the letters of a hex key's alphabet alone
        "ab_cd",  # no word of three letters
        "123",
    ):
        assert not values.written_in_words(rest), rest
