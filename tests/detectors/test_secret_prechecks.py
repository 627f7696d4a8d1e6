"""The cheap tests ``detectors.secrets`` runs before a search: each is necessary for a match,
so skipping the search when it fails changes no finding."""

from __future__ import annotations

import re

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ztmcp.detectors import multi, runs, secrets

# Pieces that make spaced-out groups, their borders and near misses likely.
_PIECES = ("a", "B", "1", "ab", "xyz", "Q2_+", "abcde", " ", "  ", "\t", "\n", ":", "é", "?", "/=")
_texts = st.one_of(
    st.lists(st.sampled_from(_PIECES), max_size=80).map("".join),
    st.text(max_size=120),
    st.lists(st.sampled_from(_PIECES), min_size=60, max_size=200).map("".join),  # past the limit
)


@given(_texts)
@example("a b c d e f g h i")  # one-character groups: the fewest disjoint triples
@example("ab cd ef gh ij kl m")
@example("abc def ghi jkl mno p")
@example("abcd efgh ijkl mnop q")
@example("a\tb c\td e f g h i")
@settings(max_examples=600)
def test_a_spaced_out_match_passes_the_precheck(text: str) -> None:
    if secrets._SPACED.search(text) is not None:
        assert secrets._may_be_spaced(text)


def test_the_precheck_is_tight_for_each_group_length() -> None:
    # The smallest match of each shape passes; one group fewer has no match and fails.
    for k, n in secrets._SPACED_GROUPS:
        group = "x" * k
        smallest = " ".join([group] * (n + 1))
        assert secrets._SPACED.search(smallest) and secrets._may_be_spaced(smallest)
    assert not secrets._may_be_spaced("a b c d e f g")
    assert not secrets._may_be_spaced("method: tools/call\nname: echo\nmessage: bench 1")


@given(_texts)
def test_a_candidate_run_is_seen_by_the_needle(text: str) -> None:
    for table, needle in (
        (secrets._CANDIDATE_CLASS, secrets._CANDIDATE_RUN),
        (secrets._B64_RUN_CLASS, secrets._B64_RUN),
    ):
        cls = runs.classes(text, table)
        assert (needle.search(cls) is not None) == bool(runs.runs(cls, "a", len(needle.pattern)))


@given(
    st.from_regex(secrets._KEYWORDS.pattern, fullmatch=True, alphabet=st.characters(codec="ascii"))
)
@example("STRIPE_KEY")
@example("mapsKey")
@example("Passphrase")
@settings(max_examples=300)
def test_every_credential_word_holds_a_keyword_stem(word: str) -> None:
    # The keyword and provider-key rules are searched only near a stem (``_windows``), and the
    # detector gate clears a text without one: a credential word added without a stem would
    # be dead in both. (``pat`` is a stem of its own where no letter follows it, and the weak
    # words where a key's run ends after them: ``_weak_spans``.)
    low = secrets.lower(word)
    assert (
        any(stem in low for stem in secrets._KEYWORD_STEMS + secrets._WEAK_STEMS)
        or secrets._PAT_TAIL.search(low) is not None
    ), word


@pytest.mark.parametrize("part", secrets._CREDENTIAL_PARTS)
def test_a_provider_key_named_with_any_credential_part_is_found(part: str) -> None:
    # The provider-key rule accepts a key holding any of these words and is searched near the
    # same words: "heroku_auth" and "heroku_login" have no keyword stem nearby.
    key = "heroku_" + ("password" if part == "passw" else part)
    text = f"{key}: 9fK2mQ7xLp3vB8nZ4wT6abc"
    assert [f.rule for f in secrets.scan(text)] == ["secret.heroku_key"], text
    assert secrets._CREDENTIAL_PART.search(key)


_gate_texts = st.one_of(
    st.text(alphabet=st.characters(min_codepoint=9, max_codepoint=126), max_size=120),
    st.lists(
        st.one_of(
            st.sampled_from(
                [w for w, _n in secrets._GATE_WORDS] + ["123-45-6789", "4111 1111 1111 1111"]
            ),
            st.text(max_size=6),
        ),
        max_size=12,
    ).map(" ".join),
)


@given(_gate_texts)
@settings(max_examples=300)
def test_short_and_long_texts_ask_the_same_table(text: str) -> None:
    # A short text tests each entry's words; a longer one runs the entries' RE2 set. Both name
    # the same entries (a searched one, card, ssn or provider part, always counts in words).
    low = secrets.lower(text)
    short = secrets._text_gate_words(low)
    long_ = secrets._text_gates(low + " " * (secrets._SET_MIN + 1))
    # A text RE2 cannot read as an ASCII view is asked by words at any length (a superset).
    by_words = len(low) <= secrets._SET_MIN or multi.ascii_view(low) is None
    assert secrets._text_gates(low) == (short if by_words else long_)
    assert short - secrets._SEARCHED == long_ - secrets._SEARCHED
    assert long_ - short == set()
    for g in secrets._TEXT_GATES:
        if g.words:
            assert (g.name in short) == any(w in low for w in g.words)
            assert (re.search(g.pattern, low) is not None) == any(w in low for w in g.words)


def test_a_provider_name_is_no_longer_than_its_regex() -> None:
    # ``_KEY_TAIL`` bounds the rest of a provider key by the longest name regex plus the
    # suffix: true while the regexes hold only literals, ``[_-]``, ``?`` and ``|``.
    for _rule, _name, word in secrets.data.KEY_PROVIDERS:
        assert re.fullmatch(r"[a-z0-9_|?\[\]-]+", word), word
    assert secrets._KEY_TAIL.match("auth_key = ")
    assert not secrets._KEY_TAIL.match("authentication\n- cookies")
