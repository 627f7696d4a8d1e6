"""A decoy before a credential hides nothing (issue 23, the review of the sixth round): a
credential key whose value the scan refuses (a placeholder, a pattern for ``pat``, a word, a
reference) used to take the text after it into that value, so a real key glued to it
(``github_pat: abc…é{secret: "<key>"``) was never tried. Values now end where the next key
starts (``secrets._keyword_in_windows``; its differential test is in
``test_secret_hostile.py``)."""

from __future__ import annotations

import random

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from tests.detectors import secret_forms as forms
from ztmcp.detectors import secrets
from ztmcp.detectors.findings import RANK
from ztmcp.severity import Severity

_DECOY_KEYS = ("pat", "github_pat", "GITHUB_PAT", "token", "password", "api_key", "SECRET")
_PAT_KEYS = ("pat", "github_pat", "GITHUB_PAT")
_CONNECTORS = (": ", ":", "=", '="', ": '", " = ", " is ")
# Values the scan refuses after any of those keys, and patterns it refuses after ``pat``
# (tested below, each alone).
_REFUSED = (
    "your_token_here",
    "changeme",
    "xxxxxxxxxxxx",
    "refreshed",
    "${API_TOKEN}",
    "$API_TOKEN",
    "{{token}}",
    "os.getenv(",
    "<TOKEN>",
    "a_placeholder",
    "abcdef...",
)
_PATTERNS = ("^[A-Z0-9]{20}$", "src/**/*.py", "ghp_[A-Za-z0-9]{36}", "[a-z]+|x*")
# What can stand between the decoy's value and the real key: value characters that no name
# holds, and the characters that end a value.
_GLUE = (*'{|/!#%@^*(+~é$ ,;&\n")]}:=', "é{", "__", "\r\n")
_REAL_KEYS = ("secret", "api_key", "DB_PASSWORD", "auth_token", "client_secret", "secret____")
_REAL_FORMS = ('{K}: "{V}"', "{K}={V}", "{K}: {V}", '{K} = "{V}"', "{K}='{V}'", "{K}:{V}")

_DECOY = st.one_of(
    st.tuples(
        st.sampled_from(_DECOY_KEYS),
        st.sampled_from(_CONNECTORS),
        st.sampled_from(_REFUSED),
        st.sampled_from(_GLUE),
    ),
    st.tuples(
        st.sampled_from(_PAT_KEYS),
        st.sampled_from(_CONNECTORS),
        st.sampled_from(_PATTERNS),
        st.sampled_from(_GLUE),
    ),
).map("".join)


def _high(text: str) -> list[tuple[int, int]]:
    return [(f.start, f.end) for f in secrets.scan(text) if RANK[f.severity] >= RANK[Severity.HIGH]]


def test_each_decoy_alone_is_refused() -> None:
    # the decoys are what the scan refuses (else the test below would test nothing)
    alone = [
        key + connector + value
        for keys, refused in ((_DECOY_KEYS, _REFUSED), (_PAT_KEYS, _PATTERNS))
        for key in keys
        for connector in _CONNECTORS
        for value in refused
    ]
    assert [text for text in alone if _high(text)] == []


@settings(max_examples=600, deadline=None)
@given(
    st.lists(_DECOY, min_size=1, max_size=3),
    st.sampled_from(_REAL_KEYS),
    st.sampled_from(_REAL_FORMS),
    st.sampled_from(sorted(forms.ALPHABETS)),
    st.integers(0, 2**32 - 1),
)
def test_a_credential_glued_to_decoys_is_found_as_it_is_alone(
    decoys: list[str], key: str, form: str, alphabet: str, seed: int
) -> None:
    value = forms.ALPHABETS[alphabet](random.Random(seed))
    real = form.format(K=key, V=value)
    at = real.index(value)
    alone = _high(real)
    assume(any(s <= at < e for s, e in alone))  # the credential alone is found
    text = "".join(decoys) + real
    at += len(text) - len(real)
    assert any(s <= at < e for s, e in _high(text)), text


def test_the_review_repro_is_found() -> None:
    key = "99f8Kq2mZx7LpR4tNv3wHc6Y"
    for decoy in (
        "github_pat: abc1234567é{",
        "pat: ^[A-Z0-9]{20}$|",
        "token: your_token_here{",
        "password=changeme!",
        "token: refreshed/",
        "token=https://example.org/?",
    ):
        text = f'{decoy}secret____: "{key}"'
        assert [text[s:e] for s, e in _high(text)] == [key], text
