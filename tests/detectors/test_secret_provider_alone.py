"""A provider's name alone as the key (``adafruit: …``, ``"twitch": "…"``, ``DATADOG=…``):
gitleaks' semi-generic rules want the name in the key and no credential word
(``rules.secrets.BARE_PROVIDERS``; docs/detection.md, "Issue 23, eighth round").

Each provider's formats block under every key decoration code writes; the false positives a
provider's name draws in real code and docs (handles, profile slugs, DSNs, versions, commit
digests, channels, names in prose) stay quiet, drawn by hypothesis; the fast paths (the RE2
set, the detector gate, RE2's proposed starts on a long text) agree with the plain search.
"""

from __future__ import annotations

import importlib
import random
import re
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.detectors import secret_rulesets as rs
from ztmcp.detectors import gate, multi
from ztmcp.detectors.rules import secrets as data

secrets = importlib.import_module("ztmcp.detectors.secrets")

_BARE_KEYS = {b.key: b for b in data.BARE_PROVIDERS}


def _key_of(spec: rs.Spec) -> str | None:
    """The bare key ``secret_rulesets.provider_only`` gives ``spec``, when it is a provider's."""
    key = rs.provider_only(spec).key or ""
    return next((k for k in _BARE_KEYS if re.fullmatch(f"(?:{k})", key)), None)


# The rules whose value has no literal prefix and whose provider takes a bare key (a prefixed
# value is its shape's business, under any key).
_SPECS = [s for s in rs.SPECS if s.key is not None and not s.prefix and _key_of(s)]
# How code and configuration write a key that is a name alone, and its value.
_DECORATIONS: tuple[Callable[[str, str], str], ...] = (
    lambda k, v: f"{k}: {v}",
    lambda k, v: f'{{"{k}": "{v}"}}',
    lambda k, v: f"export {k.upper()}={v}",
    lambda k, v: f"{k.upper()}='{v}'",
    lambda k, v: f"${k} = '{v}';",
    lambda k, v: f"'{k.capitalize()}' => \"{v}\",",
    lambda k, v: f"{k} := {v}",
    lambda k, v: f'[services]\n{k} = "{v}"\n',
)
_SKIPPED_IDS = {  # ids the project leaves quiet (``KNOWN_MISSES``): a slug, digits alone
    "gitleaks:linkedin-client-id",
    "gitleaks:asana-client-id",
}


def _blocks(text: str) -> bool:
    return rs.blocking(text)


def _value_key(spec: rs.Spec) -> str:
    key = rs.provider_only(spec).key
    assert key is not None
    return key


def test_the_measured_specs_cover_most_providers() -> None:
    # The rules measured below are the providers' formats, not a handful.
    assert len(_SPECS) >= 60


@pytest.mark.parametrize("spec", _SPECS, ids=lambda s: s.rule)
def test_each_provider_format_blocks_under_its_name_alone(spec: rs.Spec) -> None:
    if spec.rule in _SKIPPED_IDS:
        pytest.skip("an identifier the project leaves quiet")
    rng = random.Random(spec.rule)
    key = _value_key(spec)
    for decorate in _DECORATIONS:
        value = rs.fill(spec.template, rng)
        text = decorate(key, value)
        assert _blocks(text), text
        found = [f for f in secrets.scan(text) if f.rule.startswith("secret.")]
        assert any(text[f.start : f.end] == value for f in found), (text, found)


@pytest.mark.parametrize("spec", _SPECS, ids=lambda s: s.rule)
def test_a_value_one_short_of_the_format_does_not_block_under_the_name(spec: rs.Spec) -> None:
    formats = _BARE_KEYS[_key_of(spec) or ""].formats
    if not formats:
        pytest.skip("no format known: any strong value of 16 or more (data.GENERATED)")
    rng = random.Random(spec.rule)
    for _ in range(3):
        value = rs.fill(spec.template, rng, shorten=True)
        if any(re.fullmatch(f.pattern, value, re.I) for f in formats):
            continue  # (a length range: one short is still in it)
        text = f"{_value_key(spec)}: {value}"
        assert not _blocks(text), text


@pytest.mark.parametrize(
    "text",
    [
        "mailchimp: Xq7vR2pL9mZ4tK8wB3nY",
        '"yandex": "Hk3mQ9vX2pR7tL5wN8zB4c"',
        "export SUMOLOGIC=Zr8Kq2Xv7mP4tL9wB6nY3c",
    ],
)
def test_a_provider_without_a_known_format_takes_a_strong_value(text: str) -> None:
    assert _blocks(text)


@pytest.mark.parametrize(
    "text",
    [
        "mailchimp: Xq7vR2pL9mZ4tK8",  # shorter than ``GENERATED``
        "mailchimp: 3f2a9c81be04d7a65c1e",  # hex digits: no format says hex
        "mailchimp: 12345678901234567890",  # digits alone
    ],
)
def test_a_provider_without_a_known_format_refuses_weaker_values(text: str) -> None:
    assert not _blocks(text)


# -- the false positives a provider's name draws, by class ----------------------------------

# Each key written out (the first spelling of each).
_NAMES = sorted({k.replace("[_-]?", "").split("|")[0] for k in _BARE_KEYS})
_HANDLE = st.from_regex(r"[A-Za-z0-9_]{1,15}", fullmatch=True)


@given(handle=_HANDLE, at=st.sampled_from(["", "@"]), form=st.sampled_from(_DECORATIONS))
@settings(max_examples=300, deadline=None)
def test_a_twitter_handle_is_no_key(handle: str, at: str, form: Callable[[str, str], str]) -> None:
    assert not _blocks(form("twitter", at + handle))


@given(
    user=st.from_regex(r"[a-z0-9](?:[a-z0-9-]{0,37}[a-z0-9])?", fullmatch=True),
    site=st.sampled_from(["github", "gitlab", "bitbucket", "twitter", "linkedin"]),
    form=st.sampled_from(_DECORATIONS),
)
@settings(max_examples=300, deadline=None)
def test_a_user_name_or_profile_url_is_no_key(
    user: str, site: str, form: Callable[[str, str], str]
) -> None:
    assert not _blocks(form(site, f"https://{site}.com/{user}"))
    assert not _blocks(form(site, f"{site}.com/in/{user}"))


@given(
    words=st.lists(st.from_regex(r"[a-z]{2,9}", fullmatch=True), min_size=2, max_size=4),
    tail=st.from_regex(r"[0-9a-z]{0,10}", fullmatch=True),
    form=st.sampled_from(_DECORATIONS),
)
@settings(max_examples=300, deadline=None)
def test_a_linkedin_profile_slug_is_no_key(
    words: list[str], tail: str, form: Callable[[str, str], str]
) -> None:
    slug = "-".join([*words, tail] if tail else words)
    assert not _blocks(form("linkedin", slug))


@given(
    key=st.from_regex(r"[0-9a-f]{32}", fullmatch=True),
    org=st.integers(1, 10**7),
    project=st.integers(1, 10**7),
    name=st.sampled_from(["sentry", "SENTRY", "datadog"]),
)
@settings(max_examples=200, deadline=None)
def test_a_dsn_url_is_no_key(key: str, org: int, project: int, name: str) -> None:
    dsn = f"https://{key}@o{org}.ingest.sentry.io/{project}"
    assert not _blocks(f"{name}: {dsn}")
    assert not _blocks(f'{{"{name}": "{dsn}"}}')


@given(
    name=st.sampled_from(_NAMES),
    version=st.from_regex(
        r"[\^~>=<]{0,2}v?[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,4}(?:-(?:alpha|beta|rc)\.[0-9]{1,3})?",
        fullmatch=True,
    ),
)
@settings(max_examples=300, deadline=None)
def test_a_version_is_no_key(name: str, version: str) -> None:
    assert not _blocks(f'{{"{name}": "{version}"}}')
    assert not _blocks(f"{name}: {version}")


@given(
    name=st.sampled_from(_NAMES),
    digest=st.sampled_from([40, 64]).flatmap(
        lambda n: st.from_regex(f"[0-9a-f]{{{n}}}", fullmatch=True)
    ),
    context=st.sampled_from(["commit", "sha", "digest", "checksum", "integrity", "resolved"]),
)
@settings(max_examples=300, deadline=None)
def test_a_commit_digest_is_no_key(name: str, digest: str, context: str) -> None:
    """A hex digest under a provider's name blocks only where the provider's format is hex of
    that length, and never beside a digest's name (a renovate config, a lock file)."""
    text = f'{{"{name}": "{digest}"}}'
    formats = next(b.formats for k, b in _BARE_KEYS.items() if re.fullmatch(f"(?:{k})", name))
    if not any(f.hex and re.fullmatch(f.pattern, digest) for f in formats):
        assert not _blocks(text)
    assert not _blocks(f'{{"{context}": {{"{name}": "{digest}"}}}}')
    assert not _blocks(f'{name} = "{digest}"  # {context} pinned by renovate')


def test_a_hex_format_blocks_without_a_digest_beside_it() -> None:
    """The twin of the above: the same digest-shaped value, no lock-file word near it."""
    rng = random.Random(3)
    value = "".join(rng.choice("0123456789abcdef") for _ in range(64))
    assert _blocks(f'{{"sentry": "{value}"}}')
    assert not _blocks(f'{{"commit": "abc", "sentry": "{value}"}}')


@given(
    name=st.sampled_from(_NAMES),
    channel=st.from_regex(r"#[a-z0-9][a-z0-9_-]{0,40}", fullmatch=True),
)
@settings(max_examples=200, deadline=None)
def test_a_channel_is_no_key(name: str, channel: str) -> None:
    assert not _blocks(f'slack: "{channel}"')
    assert not _blocks(f'{name}: "{channel}"')


@pytest.mark.parametrize(
    "text",
    [
        "Heroku: deploy with git push heroku main, then scale the dynos",
        "Datadog: dashboards and monitors for production traffic",
        "Twitter: follow @acme_support for status updates",
        "Sentry: error tracking with performance monitoring enabled",
        "twitter: https://twitter.com/jongleberry",
        "cohere:embed-multilingual-light-v3.0",
        "Dropbox: `connector_dropbox`",
        "TypeForm = typing.TypeForm",
        "github: octocat/Hello-World",
        "twitter: jack_dorsey_official",
        '"datadog": "^3.2.1"',
        '"@sentry/node": "7.54.1"',
        "linkedin: jane-doe-4a5b6c7d8",
    ],
)
def test_names_in_prose_and_code_are_no_key(text: str) -> None:
    assert not _blocks(text)


@given(
    name=st.sampled_from(_NAMES),
    words=st.lists(st.from_regex(r"[A-Za-z]{2,12}", fullmatch=True), min_size=1, max_size=8),
)
@settings(max_examples=300, deadline=None)
def test_words_after_a_name_are_no_key(name: str, words: list[str]) -> None:
    assert not _blocks(f"{name.capitalize()}: {' '.join(words)}.")
    assert not _blocks(f"{name}: {'_'.join(words)}")


def test_another_key_holding_the_name_is_not_the_name_alone() -> None:
    value = "a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p6q7r8s9t0"  # Datadog's format
    assert _blocks(f"datadog: {value}")
    for key in ("datadog_site", "my_datadog", "config.datadog", "datadog-agent", "datadogs"):
        assert not _blocks(f"{key}: {value}"), key


# -- the fast paths agree with the plain search ---------------------------------------------


def test_no_format_is_shorter_than_the_first_test_asks() -> None:
    from re import _parser  # type: ignore[attr-defined]  # the widths of the formats

    for bare in data.BARE_PROVIDERS:
        for f in bare.formats:
            assert _parser.parse(f.pattern).getwidth()[0] >= secrets._BARE_SHORTEST, f
    assert _parser.parse(data.GENERATED.pattern).getwidth()[0] >= secrets._BARE_SHORTEST
    # and no name is longer than its regex (``_BARE_REACH``)
    for bare in data.BARE_PROVIDERS:
        assert _parser.parse(bare.key).getwidth()[1] <= len(bare.key), bare.key


def test_every_whole_text_first_test_is_read_by_re2_as_written() -> None:
    """The whole-text set takes the patterns as they are: one RE2 cannot parse would leave
    the set unavailable, every text tested word by word."""
    if not multi.parses("a"):
        pytest.skip("no RE2")
    for g in secrets._TEXT_GATES:
        assert multi.parses(g.pattern), g.name
    assert secrets._text_gate_set().available


_VALUES = st.sampled_from(
    [rs.fill(s.template, random.Random(i)) for i, s in enumerate(_SPECS)]
    + ["^3.2.1", "https://x@o1.ingest.sentry.io/2", "#general", "deploy with git push"]
)
_PIECES = st.one_of(
    _VALUES,
    st.sampled_from([*_NAMES, "export ", "$", '"', "'", ": ", "=", " = ", "\n", " ", "\\n"]),
    st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=30),
)


@given(st.lists(_PIECES, max_size=16).map("".join))
@settings(max_examples=300, deadline=None)
def test_the_set_and_the_gate_never_hide_a_match(text: str) -> None:
    low = secrets.lower(secrets._continued(text))
    matches = list(secrets._BARE_KEY.finditer(low))
    if matches:
        assert "provider alone" in secrets._text_gates(low)
        assert "provider alone" in secrets._text_gate_words(low)
    gate._last = ("", None, {})
    if gate.clear(text, gate.SECRETS):
        assert secrets._scan(text) == []


@given(st.lists(_PIECES, max_size=16).map("".join))
@settings(max_examples=300, deadline=None)
def test_the_search_from_the_first_assignment_finds_what_re_finds(text: str) -> None:
    low = secrets.lower(text)
    got = [(m.span(1), m.span(2)) for m in secrets._bare_matches(low)]
    assert got == [(m.span(1), m.span(2)) for m in secrets._BARE_KEY.finditer(low)]


@given(st.lists(_PIECES, min_size=1, max_size=12).map("".join), st.integers(0, 3))
@settings(max_examples=100, deadline=None)
def test_re2_proposed_starts_find_what_re_finds(chunk: str, pad: int) -> None:
    filler = "lorem ipsum dolor " * (secrets._BARE_SEARCH_MIN // 18 + 1)
    low = secrets.lower(filler[: pad * 97] + chunk + filler + chunk)
    assert len(low) > secrets._BARE_SEARCH_MIN
    got = [(m.span(1), m.span(2)) for m in secrets._bare_matches(low)]
    want = [(m.span(1), m.span(2)) for m in secrets._BARE_KEY.finditer(low)]
    assert got == want


def test_short_texts_with_a_bare_key_reach_the_scan() -> None:
    text = "datadog: a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p6q7r8s9t0"
    gate._last = ("", None, {})
    assert not gate.clear(text, gate.SECRETS)
    assert secrets.scan(text) != []


class _NoRE2:
    """A ``multi.Search`` or ``multi.RegexSet`` that RE2 could not build."""

    available = False

    def matching(self, view: str) -> None:
        return None


def _long_texts() -> list[str]:
    """Pages past the RE2 thresholds with bare keys (blocking and not) inside."""
    rng = random.Random(11)
    filler = "Some prose about deployments, with a colon: here and an = sign. " * 80
    keys = [f"{_value_key(s)}: {rs.fill(s.template, rng)}" for s in _SPECS[:12]]
    keys += ["twitter: @jack_dorsey", '"datadog": "^3.2.1"', "Heroku: deploy with git push"]
    return [filler + "\n".join(keys) + filler, filler + keys[0], keys[1] + "\n" + filler]


@pytest.mark.parametrize("text", _long_texts(), ids=["mixed", "key last", "key first"])
def test_without_re2_the_scan_finds_the_same(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Fault injection: no RE2 for the starts nor for the whole-text set (the word tests and
    ``re`` alone then), and the findings are the same."""
    assert len(text) > secrets._BARE_SEARCH_MIN
    want = secrets._scan(text)
    assert any(f.message.endswith("under its name") for f in want)
    monkeypatch.setattr(secrets, "_bare_search", lambda: _NoRE2())
    assert secrets._scan(text) == want
    monkeypatch.setattr(secrets, "_text_gate_set", lambda: _NoRE2())
    assert secrets._scan(text) == want


@pytest.mark.parametrize("decorate", _DECORATIONS)
def test_datadog_keys_as_datadog_issues_them_block_under_its_name_alone(
    decorate: Callable[[str, str], str],
) -> None:
    """Datadog's API keys are 32 hex characters and its application keys 40: gitleaks'
    ``[a-z0-9]{40}`` draws never read as hex, but the keys a user pastes do."""
    rng = random.Random(5)
    for n in (32, 40):
        value = "".join(rng.choice("0123456789abcdef") for _ in range(n))
        assert _blocks(decorate("datadog", value)), decorate("datadog", value)


@pytest.mark.parametrize(
    "text",
    [
        "datadog commit sha: 8f3a9c0b7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a",
        "datadog: 0000000000000000000000000000000000000000",
        "datadog: 8f3a9c0b7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2",  # 39: neither length
    ],
)
def test_a_digest_or_a_filler_under_datadog_is_no_key(text: str) -> None:
    assert not _blocks(text)
