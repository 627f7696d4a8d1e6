"""The TOML span scanner: every assignment found at the right place, edits change only spans."""

from __future__ import annotations

import tomllib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ztmcp.clients import tomlspan
from ztmcp.clients.formats import _toml_string
from ztmcp.clients.jsonc import ConfigError

CODEX = '''# Codex settings
model = "o3"  # the model
approval_policy = """
[not a table]
command = "no"
"""

[mcp_servers.time]   # a comment on the header
command = "mcp-server-time"   # the command
args = [
  "--local-timezone", # zone
  'UTC',
]
env = { TZ = "UTC", "X]" = '}' }

[mcp_servers."my server"]
command = 'node'
startup_timeout_sec = 10

[mcp_servers.web]
url = "https://example.com/mcp"

[[profiles]]
command = "not a server"
when = 1979-05-27 07:32:00Z
'''


def test_finds_every_assignment_with_its_full_path() -> None:
    found = {a.path: CODEX[a.start : a.end] for a in tomlspan.assignments(CODEX)}
    assert found[("model",)] == '"o3"'
    assert found[("mcp_servers", "time", "command")] == '"mcp-server-time"'
    assert found[("mcp_servers", "time", "args")].startswith("[") and found[
        ("mcp_servers", "time", "args")
    ].endswith("]")
    assert found[("mcp_servers", "my server", "command")] == "'node'"
    assert found[("mcp_servers", "web", "url")] == '"https://example.com/mcp"'
    assert ("command",) not in found  # the one inside the multi-line string is text
    assert found[("profiles", "[]", "when")] == "1979-05-27 07:32:00Z"
    data = tomllib.loads(CODEX)
    for a in tomlspan.assignments(CODEX):
        if "[]" not in a.path:
            value = data
            for part in a.path:
                value = value[part]
            assert tomllib.loads(f"v = {CODEX[a.start : a.end]}")["v"] == value


@settings(max_examples=200, deadline=None)
@given(st.text(), st.lists(st.text(), max_size=4))
def test_string_rendering_reads_back(command: str, args: list[str]) -> None:
    rendered = f"command = {_toml_string(command)}\nargs = [{', '.join(map(_toml_string, args))}]\n"
    assert tomllib.loads(rendered) == {"command": command, "args": args}
    spans = {a.path: a for a in tomlspan.assignments(rendered)}
    assert rendered[spans[("command",)].start : spans[("command",)].end] == _toml_string(command)


@pytest.mark.parametrize("text", ["a = ", "[t\nb = 1", 'a = "x" b = 1', "a = [1,"])
def test_refuses_what_it_cannot_read(text: str) -> None:
    with pytest.raises(ConfigError):
        tomlspan.assignments(text)


keys = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=6)
scalars = (
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=8)
    | st.integers()
    | st.booleans()
    | st.floats(allow_nan=False, allow_infinity=False)
)
tables = st.recursive(
    st.dictionaries(keys, scalars | st.lists(scalars, max_size=3), max_size=4),
    lambda inner: st.dictionaries(keys, inner, max_size=3),
    max_leaves=12,
)


def _leaves(data: dict[str, object], at: tuple[str, ...] = ()) -> dict[tuple[str, ...], object]:
    out: dict[tuple[str, ...], object] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            out |= _leaves(value, (*at, key))
        else:
            out[(*at, key)] = value
    return out


@settings(max_examples=150, deadline=None)
@given(tables, st.booleans())
def test_differential_against_tomllib(data: dict[str, object], multiline: bool) -> None:
    """Every value tomli-w writes is found at its full path, and its span reads back as it."""
    import tomli_w

    text = tomli_w.dumps(data, multiline_strings=multiline)
    found = {a.path: text[a.start : a.end] for a in tomlspan.assignments(text)}
    leaves = _leaves(tomllib.loads(text))
    assert set(found) == set(leaves)
    for path, raw in found.items():
        assert tomllib.loads(f"v = {raw}")["v"] == leaves[path]
