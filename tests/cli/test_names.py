"""ztmcp.names: one rule per kind of identifier, for the policy loader and the command line."""

from __future__ import annotations

import re

import pytest
import typer
from hypothesis import given, settings
from hypothesis import strategies as st

from ztmcp import names
from ztmcp.cli.app import app
from ztmcp.cli.values import Reader
from ztmcp.terminal import unsafe

KINDS = {
    "server": names.SERVER,
    "file name": names.FILE_NAME,
    "host": names.HOST,
    "origin": names.ORIGIN,
    "URL": names.URL,
    "text": names.TEXT,
    "word": names.WORD,
}
UNSAFE = st.characters(categories=["Cc", "Cf", "Zl", "Zp", "Cs"])


@settings(max_examples=300, derandomize=True, deadline=None, database=None)
@given(st.sampled_from(sorted(KINDS)), st.text(max_size=20), UNSAFE, st.text(max_size=20))
def test_no_kind_takes_a_character_that_acts_on_or_hides_in_a_terminal(
    kind: str, before: str, bad: str, after: str
) -> None:
    assert unsafe(bad)
    reason = KINDS[kind].refusal(before + bad + after)
    assert reason is not None


@settings(max_examples=300, derandomize=True, deadline=None, database=None)
@given(st.sampled_from(sorted(KINDS)), st.text(max_size=40))
def test_what_a_kind_accepts_it_keeps_and_accepts_again(kind: str, value: str) -> None:
    rule = KINDS[kind]
    if rule.refusal(value) is not None:
        return
    kept = rule.parse(value)
    assert kept == (value.lower() if rule.fold else value)
    assert rule.refusal(kept) is None
    assert all(not unsafe(c) for c in kept) and kept == kept.strip()


@settings(max_examples=400, derandomize=True, deadline=None, database=None)
@given(st.one_of(st.from_regex(r"[A-Za-z0-9._-]{0,70}", fullmatch=True), st.text(max_size=70)))
def test_file_names_are_the_pattern_pins_and_secrets_had(value: str) -> None:
    # Differential against the regular expression pin_cmd and credentials each kept before.
    old = re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", value) is not None
    assert (names.PINNED.refusal(value) is None) == old
    assert (names.SECRET.refusal(value) is None) == old


@pytest.mark.parametrize(
    ("kind", "value", "kept"),
    [
        (names.SERVER, "My Server", "My Server"),
        (names.SERVER, "npx-@scope/server-fs", "npx-@scope/server-fs"),
        (names.TOOL, "write_*", "write_*"),
        (names.HOST, "MCP.local:8931", "mcp.local:8931"),
        (names.HOST, "[::1]:8931", "[::1]:8931"),
        (names.HOST, "10.0.0.5", "10.0.0.5"),
        (names.ORIGIN, "https://App.Example.com", "https://app.example.com"),
        (names.ORIGIN, "http://localhost:3000/", "http://localhost:3000/"),
        # Host headers and origins compared as given, that a stricter shape refused:
        (names.HOST, "mcp_server:8931", "mcp_server:8931"),  # a Docker Compose service
        (names.ORIGIN, "http://mcp_server:8931", "http://mcp_server:8931"),
        (names.ORIGIN, "chrome-extension://" + "a" * 32, "chrome-extension://" + "a" * 32),
        (
            names.ORIGIN,
            "moz-extension://0B7C5A2E-1F4B-4E4F-9A6E-3D2B1C0A9F8E",
            "moz-extension://0b7c5a2e-1f4b-4e4f-9a6e-3d2b1c0a9f8e",
        ),
        (names.ORIGIN, "vscode-webview://1a2b3c", "vscode-webview://1a2b3c"),
        (names.ORIGIN, "tauri://localhost", "tauri://localhost"),
        (names.URL, "https://mcp.example.com/mcp?x=1", "https://mcp.example.com/mcp?x=1"),
        (names.TEXT, "", ""),
        (names.TEXT, "ticket 42: rotate keys", "ticket 42: rotate keys"),
    ],
)
def test_what_people_write_is_accepted(kind: names.Kind, value: str, kept: str) -> None:
    assert kind.refusal(value) is None
    assert kind.parse(value) == kept


@pytest.mark.parametrize(
    ("kind", "value", "says"),
    [
        (names.SERVER, "", "empty"),
        (names.SERVER, " fs", "whitespace at the start or end"),
        (names.SERVER, "f" * 257, "longer than 256 characters"),
        (names.SERVER, "fs\u202e", "U+202E"),
        (names.HOST, "a b:80", "whitespace inside"),
        (names.HOST, "host:0", "port 0 is not from 1 to 65535"),
        (names.HOST, "host:65536", "port 65536"),
        (names.HOST, "http://host", "not of the form"),
        (names.HOST, "::1", "not of the form"),  # IPv6 in brackets, or the port is unclear
        (names.ORIGIN, "https://app.example.com/path", "not of the form"),
        (names.ORIGIN, "1ab://app.example.com", "not of the form"),  # a scheme starts a-z
        (names.ORIGIN, "https:app.example.com", "not of the form"),
        (names.ORIGIN, "null", "not of the form"),  # any sandboxed frame's: not allowed
        (names.URL, "https://a.example/ x", "whitespace inside"),
        (names.WORD, "a b", "whitespace inside"),
        (names.PINNED, "../evil", "not of the form"),
    ],
)
def test_what_is_refused_says_why(kind: names.Kind, value: str, says: str) -> None:
    reason = kind.refusal(value)
    assert reason is not None and says in reason
    error = names.refused(kind, "--x", value)
    assert error is not None and error.message.startswith(f"invalid {kind.noun} for --x: ")
    assert error.hint == kind.hint
    assert len(error.message) < 200  # a 10,000-character value is shown cut


def test_a_shell_completing_a_command_line_sees_no_refusal(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Completion parses the line resiliently: a half-typed value must not print the error.
    command = typer.main.get_command(app)
    context = command.make_context("ztmcp", [], resilient_parsing=True)
    with context, pytest.raises(ValueError, match="empty"):
        Reader(names.SERVER, "--name")("")
    assert capsys.readouterr() == ("", "")
    with pytest.raises(typer.Exit):  # not completing: the one error line, exit 2
        Reader(names.SERVER, "--name")("")
    assert "ztmcp: error: invalid server name for --name: '' (empty)" in capsys.readouterr().err


@pytest.mark.parametrize("bad", ["a\x1bb", "x" * 300, "two words\n"])
def test_every_table_names_a_refused_name_as_the_command_line_does(bad: str) -> None:
    """The policy's rule globs, ``[sandbox.servers]`` and ``[watch] name`` show a refused name
    the one way ``names.refusal_shown`` writes it (cut, escaped, with the reason)."""
    from ztmcp.errors import PolicyError
    from ztmcp.policy import parse_policy
    from ztmcp.sandbox.profile import parse_table
    from ztmcp.watch.policy import parse

    cases = [
        (names.TOOL, lambda: parse_policy({"access": {"rule": [{"tool": bad}]}}, "p.toml")),
        (names.SERVER, lambda: parse_table({"servers": {bad: {}}}, "p.toml")),
        (names.AGENT, lambda: parse({"watch": {"name": bad}}, "w.toml")),
    ]
    for kind, read in cases:
        why = names.refusal_shown(kind, bad)
        assert why is not None, kind.noun
        with pytest.raises(PolicyError) as caught:
            read()
        assert why in str(caught.value), (kind.noun, str(caught.value))
