"""Credential brokering: ``[[proxy.header]]`` validation, matching and resolution from a real
keyring backend (an in-memory one registered with ``keyring.set_keyring``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.keyring_backends import MemoryKeyring, memory_keyring, no_keyring
from ztmcp import credentials
from ztmcp.credentials import (
    SERVICE,
    CredentialError,
    HeaderRule,
    SecretStore,
    agent_conflicts,
    parse_header_rules,
    redact,
    resolve,
    rules_for,
    upstream_headers,
)
from ztmcp.errors import PolicyError
from ztmcp.policy import load_policy, parse_policy

__all__ = ["memory_keyring", "no_keyring"]  # fixtures used by name below

GITHUB = {
    "upstream": "https://api.example.com/mcp*",
    "name": "Authorization",
    "value": "Bearer {secret:github}",
}


def rule(**fields: str) -> HeaderRule:
    (parsed,) = parse_header_rules([{**GITHUB, **fields}], "ztmcp.toml")
    return parsed


def policy_error(raw: object) -> str:
    with pytest.raises(PolicyError) as info:
        parse_header_rules(raw, "ztmcp.toml")
    text = info.value.diagnostics()
    assert "\n" not in info.value.message and text.startswith("ztmcp.toml: ")
    return text


@pytest.mark.parametrize(
    ("raw", "needle"),
    [
        ({"upstream": "x"}, "must be a list of tables"),
        ([{**GITHUB, "header": "X"}], "unknown key 'header'"),
        ([{"upstream": GITHUB["upstream"], "name": "Authorization"}], 'needs value = "…"'),
        ([{**GITHUB, "value": 7}], 'needs value = "…"'),
        ([{**GITHUB, "upstream": "api.example.com/mcp"}], "explicit host"),
        ([{**GITHUB, "upstream": "ftp://api.example.com/"}], "explicit host"),
        ([{**GITHUB, "upstream": "https://*/mcp"}], "explicit host"),
        ([{**GITHUB, "upstream": "https://api.*.com/mcp"}], "explicit host"),
        ([{**GITHUB, "upstream": "https://user@api.example.com/"}], "explicit host"),
        ([{**GITHUB, "upstream": "https://api.example.com/mcp?x=1"}], "explicit host"),
        ([{**GITHUB, "upstream": "https://api.example.com:99999/"}], "explicit host"),
        ([{**GITHUB, "name": "Bad Header"}], "not an HTTP header name"),
        ([{**GITHUB, "name": "Host"}], "manages itself"),
        ([{**GITHUB, "name": "mcp-session-id"}], "manages itself"),
        ([{**GITHUB, "value": "Bearer {secret:git hub}"}], "invalid secret 'git hub'"),
        ([{**GITHUB, "value": "Bearer {github}"}], "not a {secret:NAME} placeholder"),
        ([{**GITHUB, "value": "Bearer {secret:github"}], "not a {secret:NAME} placeholder"),
        ([{**GITHUB, "value": "a\r\nX-Evil: 1"}], "line break"),
        ([{**GITHUB, "upstream": "http://api.example.com/mcp"}], "over plain http"),
    ],
)
def test_bad_rules_are_one_line_errors_at_start(raw: object, needle: str) -> None:
    assert needle in policy_error(raw)


def test_plain_http_is_allowed_to_loopback_and_without_secrets() -> None:
    assert rule(upstream="http://127.0.0.1:8080/mcp").secrets == ("github",)
    assert rule(upstream="http://localhost/mcp").secrets == ("github",)
    assert rule(upstream="http://[::1]:9/mcp").secrets == ("github",)
    assert rule(upstream="http://api.example.com/", value="acme").secrets == ()


@pytest.mark.parametrize(
    ("upstream", "url", "matches"),
    [
        ("https://api.example.com/mcp*", "https://api.example.com/mcp", True),
        ("https://api.example.com/mcp*", "https://API.example.com:443/mcp/v2", True),
        ("https://api.example.com/mcp*", "https://api.example.com/other", False),
        ("https://api.example.com/mcp*", "http://api.example.com/mcp", False),
        ("https://api.example.com/mcp*", "https://api.example.com:8443/mcp", False),
        ("https://api.example.com/mcp*", "https://api.example.com.evil.net/mcp", False),
        ("https://api.example.com/mcp*", "https://evil.net/api.example.com/mcp", False),
        ("https://api.example.com", "https://api.example.com/anything", True),
        ("https://*.example.com/mcp", "https://eu.api.example.com/mcp", True),
        ("https://*.example.com/mcp", "https://example.com/mcp", False),
        ("https://*.example.com/mcp", "https://evilexample.com/mcp", False),
        ("https://*.example.com/mcp", "https://evil.net/x.example.com/mcp", False),
        ("http://127.0.0.1:8080/mcp", "http://127.0.0.1:8080/mcp", True),
        ("http://127.0.0.1:8080/mcp", "http://127.0.0.1:8081/mcp", False),
    ],
)
def test_a_rule_matches_scheme_host_port_and_path(upstream: str, url: str, matches: bool) -> None:
    assert rule(upstream=upstream).matches(url) is matches


def test_first_matching_rule_wins_per_header_name() -> None:
    rules = parse_header_rules(
        [
            {**GITHUB, "value": "Bearer {secret:first}"},
            {**GITHUB, "name": "authorization", "value": "Bearer {secret:second}"},
            {**GITHUB, "name": "X-Tenant", "value": "acme"},
            {**GITHUB, "upstream": "https://other.example.com/*", "name": "X-Other"},
        ],
        "ztmcp.toml",
    )
    chosen = rules_for(rules, "https://api.example.com/mcp")
    assert sorted(chosen) == ["authorization", "x-tenant"]
    assert chosen["authorization"].secrets == ("first",)


def test_resolve_fills_secrets_from_the_keyring(memory_keyring: MemoryKeyring) -> None:
    store = SecretStore()
    store.set("github", "ghp_example_token_value")
    rules = parse_header_rules(
        [GITHUB, {**GITHUB, "name": "X-Pair", "value": "{secret:github}:{secret:github}"}],
        "ztmcp.toml",
    )
    assert memory_keyring.entries == {(SERVICE, "github"): "ghp_example_token_value"}
    assert resolve(rules, "https://api.example.com/mcp", store) == {
        "Authorization": "Bearer ghp_example_token_value",
        "X-Pair": "ghp_example_token_value:ghp_example_token_value",
    }
    assert upstream_headers(rules, "https://api.example.com/mcp")["Authorization"].endswith(
        "_value"
    )
    assert upstream_headers(rules, "https://elsewhere.example.org/mcp") == {}


def test_a_missing_secret_fails_at_start_without_a_value(memory_keyring: MemoryKeyring) -> None:
    with pytest.raises(CredentialError) as info:
        upstream_headers([rule()], "https://api.example.com/mcp")
    assert "no secret named 'github'" in info.value.message
    assert "ztmcp secret set github" in (info.value.hint or "")


@pytest.mark.usefixtures("no_keyring")
def test_no_keyring_backend_is_one_line_with_what_to_install() -> None:
    with pytest.raises(CredentialError) as info:
        upstream_headers([rule()], "https://api.example.com/mcp")
    assert info.value.message == (
        "cannot read secrets: no keyring backend is available on this machine"
    )
    hint = info.value.hint or ""
    assert "keyrings.alt" in hint and "PYTHON_KEYRING_BACKEND" in hint
    with pytest.raises(CredentialError, match="cannot store secrets"):
        SecretStore().set("github", "value")
    # No rule for this upstream: the keyring is not touched, so no backend is needed.
    assert upstream_headers([rule()], "https://other.example.org/") == {}


def test_the_store_keeps_names_only_and_deletes(
    memory_keyring: MemoryKeyring, tmp_path: Path
) -> None:
    store = SecretStore(tmp_path / "secrets.json")
    store.set("b-token", "value-b")
    store.set("a.token", "value-a")
    store.set("a.token", "value-a2")
    assert store.names() == ["a.token", "b-token"]
    index = (tmp_path / "secrets.json").read_text()
    assert "value" not in index and json.loads(index) == {"names": ["a.token", "b-token"]}
    assert store.get("a.token") == "value-a2"
    assert store.delete("a.token") is True
    assert store.delete("a.token") is False
    assert store.names() == ["b-token"] and not store.exists("a.token")


def test_the_secret_index_is_private_to_the_user(
    memory_keyring: MemoryKeyring, tmp_path: Path
) -> None:
    """Which secrets exist is not for other local users (issue 24): 0600, whatever the umask."""
    import os

    old = os.umask(0o022)
    try:
        store = SecretStore(tmp_path / "state" / "secrets.json")
        store.set("a-token", "value-a")
        store.set("b-token", "value-b")  # rewritten, still private
    finally:
        os.umask(old)
    assert (tmp_path / "state" / "secrets.json").stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "state").stat().st_mode & 0o777 == 0o700


@pytest.mark.parametrize(
    ("name", "value", "needle"),
    [
        ("bad name", "v", "invalid secret name"),
        ("-x", "v", "invalid secret name"),
        ("ok", "", "empty secret value"),
        ("ok", "two\nlines", "line break"),
        ("ok", "x" * (credentials.MAX_SECRET_BYTES + 1), "over"),
    ],
)
def test_bad_names_and_values_are_refused(
    memory_keyring: MemoryKeyring, name: str, value: str, needle: str
) -> None:
    with pytest.raises(CredentialError, match=needle):
        SecretStore().set(name, value)
    assert memory_keyring.entries == {}


def test_a_corrupt_index_is_a_clear_error(tmp_path: Path) -> None:
    index = tmp_path / "secrets.json"
    index.write_text("[1, 2]")
    with pytest.raises(CredentialError, match="not a ztmcp secret index"):
        SecretStore(index).names()


def test_agent_headers_that_ztmcp_brokers_are_conflicts() -> None:
    brokered = {"Authorization": "Bearer s3cr3t", "X-Tenant": "acme"}
    assert agent_conflicts(["authorization", "Accept", "x-tenant"], brokered) == (
        "authorization",
        "x-tenant",
    )
    assert agent_conflicts(["Accept", "Mcp-Session-Id"], brokered) == ()
    assert agent_conflicts(["Authorization"], {}) == ()


def test_redact_removes_every_brokered_value() -> None:
    text = redact(
        "upstream said: Bearer s3cr3t and s3cr3t",
        {"Authorization": "Bearer s3cr3t", "X-Key": "s3cr3t"},
    )
    assert "s3cr3t" not in text and text.count("[REDACTED:credential]") == 2


def test_policy_carries_header_rules_and_validates_them(tmp_path: Path) -> None:
    project = tmp_path / "ztmcp.toml"
    project.write_text(
        '[[proxy.header]]\nupstream = "https://api.example.com/mcp*"\nname = "Authorization"\n'
        'value = "Bearer {secret:github}"\n'
    )
    policy = load_policy(project, cwd=tmp_path, user_config=tmp_path / "none.toml")
    assert policy.upstream_headers == (
        HeaderRule("https://api.example.com/mcp*", "Authorization", "Bearer {secret:github}"),
    )
    assert parse_policy({}, "default").upstream_headers == ()
    with pytest.raises(PolicyError, match=r"unknown key 'headers' in \[proxy\]"):
        parse_policy({"proxy": {"headers": []}}, "ztmcp.toml")
    with pytest.raises(PolicyError, match="proxy must be a table"):
        parse_policy({"proxy": []}, "ztmcp.toml")
    project.write_text('[[proxy.header]]\nupstream = "https://*/"\nname = "A"\nvalue = "b"\n')
    with pytest.raises(PolicyError, match="explicit host"):
        load_policy(project, cwd=tmp_path, user_config=tmp_path / "none.toml")


def test_validating_policy_never_imports_keyring() -> None:
    import subprocess
    import sys

    code = (
        "import sys; from ztmcp.policy import parse_policy; "
        "parse_policy({'proxy': {'header': [" + repr(GITHUB) + "]}}, 'x'); "
        "print('keyring' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "False"
