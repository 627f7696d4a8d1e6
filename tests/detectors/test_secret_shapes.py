"""Every provider format added for issue 23 is found, in every wrapping, under its own rule;
ids, digests, encodings, placeholders and identifiers of the same shapes are not.

The corpus is synthetic (``secret_shapes``: drawn from each documented format with a fixed
seed); hypothesis adds random draws of the look-alike families.
"""

from __future__ import annotations

import base64
import hashlib
import re
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.detectors import secret_shapes
from ztmcp.detectors import scan_arguments, secrets
from ztmcp.detectors.findings import RANK
from ztmcp.severity import Severity

_HIGH = RANK[Severity.HIGH]


def _blocking(text: str) -> set[str]:
    return {f.rule for f in secrets.scan(text) if RANK[f.severity] >= _HIGH}


_POSITIVES = secret_shapes.positives()


@pytest.mark.parametrize(
    ("rule", "text"), _POSITIVES, ids=[f"{r}-{i}" for i, (r, _t) in enumerate(_POSITIVES)]
)
def test_every_format_is_found_under_its_rule(rule: str, text: str) -> None:
    assert set(rule.split("|")) & _blocking(text), text


def test_every_new_rule_has_a_positive() -> None:
    """A rule id added to the data without a synthetic positive is untested."""
    tested = {r for rule, _t in _POSITIVES for r in rule.split("|")}
    ids = {r.rule for r in secrets.data.RULES} | {r for r, _n, _w in secrets.data.KEY_PROVIDERS}
    assert tested <= ids
    round_two = {
        "secret.adobe_secret",
        "secret.castai_key",
        "secret.groq_key",
        "secret.ibm_cloud_key",
        "secret.cloudant_key",
        "secret.softlayer_key",
        "secret.test_live_key",
        "secret.heroku_key",
        "secret.teams_webhook",
    }
    assert round_two <= tested


@pytest.mark.parametrize("text", secret_shapes.negatives())
def test_look_alikes_are_not_blocking(text: str) -> None:
    assert not _blocking(text), (text, _blocking(text))


def test_false_positive_rate_of_the_negative_corpus_is_zero() -> None:
    negatives = secret_shapes.negatives()
    flagged = [t for t in negatives if _blocking(t)]
    assert len(negatives) > 350
    assert flagged == []


def test_arguments_walk_finds_a_new_format_in_a_nested_value() -> None:
    _rule, text = next(p for p in _POSITIVES if p[0] == "secret.groq_key")
    findings = scan_arguments({"body": {"lines": ["hello", text]}})
    assert "secret.groq_key" in {f.rule for f in findings}


@settings(max_examples=150, deadline=None)
@given(
    raw=st.binary(min_size=16, max_size=96),
    form=st.sampled_from(["uuid", "sha1", "sha256", "md5", "b64", "digest"]),
)
def test_random_ids_digests_and_encodings_are_not_blocking(raw: bytes, form: str) -> None:
    value = {
        "uuid": str(uuid.UUID(bytes=hashlib.md5(raw).digest())),
        "sha1": hashlib.sha1(raw).hexdigest(),
        "sha256": hashlib.sha256(raw).hexdigest(),
        "md5": hashlib.md5(raw).hexdigest(),
        "b64": "data:application/octet-stream;base64," + base64.b64encode(raw).decode(),
        "digest": "image@sha256:" + hashlib.sha256(raw).hexdigest(),
    }[form]
    assert not _blocking(f"id: {value}"), value


@settings(max_examples=100, deadline=None)
@given(
    words=st.lists(
        st.sampled_from(
            [
                "Should",
                "Return",
                "Value",
                "When",
                "Input",
                "Is",
                "Parse",
                "Config",
                "File",
                "Stream",
                "Playback",
                "Controller",
                "Nested",
                "Section",
            ]
        ),
        min_size=6,
        max_size=10,
    ),
    prefix=st.sampled_from(["test_", "live_", "ctr_", "ctp_", "sandbox_", "production_"]),
    digit=st.sampled_from(["", "2", "42"]),
)
def test_camel_case_identifiers_with_a_provider_prefix_are_not_blocking(
    words: list[str], prefix: str, digit: str
) -> None:
    identifier = prefix + "".join(words) + digit
    assert not _blocking(f"def {identifier}(self):"), identifier


_BARE = re.compile(r"[A-Za-z0-9_.~+/=$:-]+")
_IN_CONTEXT = [
    (rule, context, text)
    for rule, text in _POSITIVES[:: len(secret_shapes.WRAPPERS)]  # each drawn value once, bare
    if _BARE.fullmatch(text) and "://" not in text
    for context in secret_shapes.CONTEXTS
]


def test_bare_tokens_are_found_in_every_argument_context() -> None:
    """A header, a URL query, a CLI flag, a connection string, a YAML value: each bare
    format is reported under its own rule, or under a context rule (auth header, assignment)
    on the token's own span."""
    assert len(_IN_CONTEXT) > 300
    missed = []
    for rule, context, token in _IN_CONTEXT:
        text = context.format(token)
        start = context.index("{}")
        found = [f for f in secrets.scan(text) if RANK[f.severity] >= _HIGH]
        own = set(rule.split("|")) & {f.rule for f in found}
        covered = any(f.start < start + len(token) and start < f.end for f in found)
        if not own and not covered:
            missed.append(text)
    assert missed == []


@pytest.mark.parametrize(("rule", "text"), secret_shapes.LOOK_ALIKES)
def test_each_new_shape_has_a_look_alike_that_does_not_block(rule: str, text: str) -> None:
    shapes = [r.pattern for r in secrets.data.RULES if r.rule == rule]
    assert any(re.search(p, text) for p in shapes), "the look-alike must fit the shape"
    assert not _blocking(text), (text, _blocking(text))
    for context in secret_shapes.CONTEXTS:
        assert rule not in _blocking(context.format(text))
