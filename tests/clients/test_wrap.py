"""wrap/unwrap on real files: every client format, idempotent, byte-exact unwrap, audited."""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.clients.configs import render
from ztmcp.clients import formats, ops, rules, wrap
from ztmcp.clients.jsonc import ConfigError
from ztmcp.clients.rules import ConfigFile, Scope
from ztmcp.clients.wrap import Action, Backups
from ztmcp.names import SERVER
from ztmcp.state import paths
from ztmcp.state.audit import read_records, session_files

ZTMCP = ("/opt/ztmcp/bin/ztmcp",)
FILES = {
    "claude-desktop": "claude_desktop_config.json",
    "claude-code": ".claude.json",
    "vscode": "mcp.json",
    "cursor": "mcp.json",
    "windsurf": "mcp_config.json",
    "codex": "config.toml",
}


def which(name: str) -> str | None:
    return {"mcp-server-time": "/usr/local/bin/mcp-server-time"}.get(name)


def _config(tmp_path: Path, client: str, command: str = "mcp-server-time") -> ConfigFile:
    path = tmp_path / FILES[client]
    path.write_text(render(client, command, ["--local-timezone", "UTC"]))
    path.chmod(0o640)
    return ConfigFile(rules.BY_NAME[client], path, Scope.USER)


def _data(config: ConfigFile) -> Any:
    return formats.load(config.client, config.path.read_text(), "t")


@pytest.fixture()
def backups(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Backups:
    monkeypatch.setenv("ZTMCP_HOME", str(tmp_path / "home"))
    return Backups(paths.home() / "wrap")


@pytest.mark.parametrize("client", sorted(FILES))
def test_wrap_then_unwrap_restores_the_same_bytes(
    client: str, tmp_path: Path, backups: Backups
) -> None:
    config = _config(tmp_path, client)
    original = config.path.read_bytes()
    before = _data(config)
    outcome = ops.wrap_file(config, ZTMCP, which, backups, dry_run=False)
    assert outcome.changed
    text = config.path.read_text()
    # Comments survive; only the wrapped entries changed.
    for line in original.decode().splitlines():
        if "#" in line or "//" in line or "/*" in line:
            assert line.split("#")[-1].split("//")[-1] in text
    for server in formats.servers(config.client, _data(config)):
        if server.url is not None:
            assert server.command is None  # HTTP entries are left as they were
            continue
        assert server.command == ZTMCP[0]
        assert server.args is not None
        assert list(server.args[:4]) == ["run", "--name", server.name, "--"]
        assert server.args[4] == "/usr/local/bin/mcp-server-time"
    assert stat.S_IMODE(config.path.stat().st_mode) == 0o640
    assert _data(config) != before
    skipped = [s for s in outcome.steps if s.action is Action.SKIP]
    assert [s.server.name for s in skipped] == ["web"] * len(skipped)
    assert all(
        "ztmcp proxy --port 8931 --name web https://example.com/mcp" in s.why for s in skipped
    )
    # Idempotent: wrapping again changes nothing.
    again = ops.wrap_file(config, ZTMCP, which, backups, dry_run=False)
    assert not again.changed
    assert {s.action for s in again.steps} <= {Action.WRAPPED, Action.SKIP}
    undone = ops.unwrap_file(config, backups, dry_run=False)
    assert "byte for byte" in undone.note
    assert config.path.read_bytes() == original
    kinds = [r["event"] for r in read_records(session_files(paths.audit_dir()))]
    assert kinds.count("client.wrap") == 1 and kinds.count("client.unwrap") == 1


@pytest.mark.parametrize("client", ["vscode", "codex"])
def test_dry_run_writes_nothing_and_shows_the_diff(
    client: str, tmp_path: Path, backups: Backups
) -> None:
    config = _config(tmp_path, client)
    original = config.path.read_bytes()
    outcome = ops.wrap_file(config, ZTMCP, which, backups, dry_run=True)
    assert config.path.read_bytes() == original
    shown = wrap.diff(outcome.before, outcome.after, config.path)
    assert f"+{' ' * 0}" in shown and "/opt/ztmcp/bin/ztmcp" in shown
    assert backups.get(config.path) is None


@pytest.mark.parametrize("client", ["cursor", "codex"])
def test_a_file_edited_after_wrap_is_unwrapped_entry_by_entry(
    client: str, tmp_path: Path, backups: Backups
) -> None:
    config = _config(tmp_path, client)
    before = _data(config)
    ops.wrap_file(config, ZTMCP, which, backups, dry_run=False)
    # The user adds a comment after wrapping: the kept copy no longer matches.
    with config.path.open("a") as f:
        f.write("# added later\n" if client == "codex" else "// added later\n")
    outcome = ops.unwrap_file(config, backups, dry_run=False)
    assert "changed since" in outcome.note
    after = _data(config)
    for server in formats.servers(config.client, after):
        assert not wrap.is_wrapped(server)
    assert config.path.read_text().endswith("added later\n")
    assert backups.get(config.path) is None
    servers_before = {s.key: (s.command, s.args) for s in formats.servers(config.client, before)}
    servers_after = {
        s.key: (s.command, s.args or ()) for s in formats.servers(config.client, after)
    }
    # "bare" had no args: the inverse edit leaves an empty list, the command is the original.
    for key, (command, args) in servers_before.items():
        assert servers_after[key] == (command, args or ())


def test_a_server_added_after_wrap_is_wrapped_and_unwrap_keeps_it(
    tmp_path: Path, backups: Backups
) -> None:
    config = _config(tmp_path, "codex")
    ops.wrap_file(config, ZTMCP, which, backups, dry_run=False)
    with config.path.open("a") as f:
        f.write('\n[mcp_servers.later]\ncommand = "mcp-server-time"\n')
    unwrapped_now = config.path.read_text()
    outcome = ops.wrap_file(config, ZTMCP, which, backups, dry_run=False)
    assert [s.server.name for s in outcome.steps if s.action is Action.WRAP] == ["later"]
    ops.unwrap_file(config, backups, dry_run=False)
    names = {s.name: s for s in formats.servers(config.client, _data(config))}
    assert "later" in names and not wrap.is_wrapped(names["later"])
    assert names["time"].command == "mcp-server-time"
    assert "[mcp_servers.later]" in unwrapped_now


def test_a_command_not_on_path_is_left_alone_with_the_fix(tmp_path: Path, backups: Backups) -> None:
    config = _config(tmp_path, "vscode", command="no-such-server")
    original = config.path.read_bytes()
    outcome = ops.wrap_file(config, ZTMCP, which, backups, dry_run=False)
    assert not outcome.changed and config.path.read_bytes() == original
    why = {s.server.name: s.why for s in outcome.steps}
    assert "absolute path" in why["time"]


@pytest.mark.parametrize("name", [" time", "time\u202e", ""])
def test_an_entry_whose_name_ztmcp_run_refuses_is_left_alone_with_the_fix(
    name: str, tmp_path: Path, backups: Backups
) -> None:
    # Wrapped, it would be `ztmcp run --name NAME`, which refuses the name: the client's
    # server would stop starting. Left as it is, with what to do; the others are wrapped.
    path = tmp_path / FILES["claude-desktop"]
    entry = {"command": "mcp-server-time"}
    path.write_text(json.dumps({"mcpServers": {name: entry, "@scope/server fs": entry}}))
    config = ConfigFile(rules.BY_NAME["claude-desktop"], path, Scope.USER)
    outcome = ops.wrap_file(config, ZTMCP, which, backups, dry_run=False)
    steps = {s.server.name: s for s in outcome.steps}
    assert steps[name].action is Action.SKIP and "rename it" in steps[name].why
    assert steps["@scope/server fs"].action is Action.WRAP
    servers = {s.name: s for s in formats.servers(config.client, _data(config))}
    assert not wrap.is_wrapped(servers[name]) and wrap.is_wrapped(servers["@scope/server fs"])


def test_a_backup_that_cannot_be_written_stops_before_the_file_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = _config(tmp_path, "cursor")
    original = config.path.read_bytes()
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    with pytest.raises(ConfigError) as caught:
        ops.wrap_file(config, ZTMCP, which, Backups(blocker / "wrap"), dry_run=False)
    assert caught.value.hint
    assert config.path.read_bytes() == original


def test_a_toml_server_in_an_inline_table_is_refused_with_a_hint(
    tmp_path: Path, backups: Backups
) -> None:
    path = tmp_path / "config.toml"
    path.write_text('mcp_servers = { time = { command = "mcp-server-time" } }\n')
    config = ConfigFile(rules.BY_NAME["codex"], path, Scope.USER)
    with pytest.raises(ConfigError) as caught:
        ops.wrap_file(config, ZTMCP, which, backups, dry_run=False)
    assert caught.value.hint and "table" in caught.value.hint


names = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=8)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.sampled_from(sorted(FILES)),
    st.dictionaries(names, st.lists(names, max_size=3), min_size=1, max_size=4),
)
def test_any_servers_round_trip(
    tmp_path_factory: pytest.TempPathFactory, client: str, servers: dict[str, list[str]]
) -> None:
    import json

    tmp = tmp_path_factory.mktemp("rt")
    spec = rules.BY_NAME[client]
    if spec.format is rules.Format.TOML:
        text = "# top\n" + "".join(
            f'\n[mcp_servers.{formats._toml_string(n)}]\ncommand = "mcp-server-time" # c\n'
            f"args = {formats._toml_array(a)}\n"
            for n, a in servers.items()
        )
    else:
        key = spec.containers[0][0]
        entries = {n: {"command": "mcp-server-time", "args": a} for n, a in servers.items()}
        text = "// top\n" + json.dumps({key: entries}, indent=2, ensure_ascii=False) + "\n"
    path = tmp / "cfg"
    path.write_text(text)
    config = ConfigFile(spec, path, Scope.USER)
    store = Backups(tmp / "state")
    os.environ["ZTMCP_HOME"] = str(tmp / "home")
    try:
        ops.wrap_file(config, ZTMCP, which, store, dry_run=False)
        wrapped = formats.servers(spec, _data(config))
        assert {s.name for s in wrapped} == set(servers)
        for s in wrapped:  # a name `ztmcp run --name` refuses is left alone (and kept as it is)
            if SERVER.refusal(s.name) is None:
                assert s.args is not None and list(s.args[5:]) == servers[s.name]
            else:
                assert not wrap.is_wrapped(s) and s.command == "mcp-server-time"
        ops.unwrap_file(config, store, dry_run=False)
    finally:
        del os.environ["ZTMCP_HOME"]
    assert path.read_text() == text


def test_config_files_per_platform(tmp_path: Path) -> None:
    home = tmp_path
    found = {
        (c.client.name, str(c.path.relative_to(home)))
        for platform in ("linux", "darwin")
        for client in rules.CLIENTS
        for c in rules.candidates(client, platform, home, {}, None)
    }
    assert ("claude-desktop", ".config/Claude/claude_desktop_config.json") in found
    assert (
        "claude-desktop",
        "Library/Application Support/Claude/claude_desktop_config.json",
    ) in found
    assert ("vscode", "Library/Application Support/Code/User/mcp.json") in found
    assert ("codex", ".codex/config.toml") in found
    assert ("windsurf", ".codeium/windsurf/mcp_config.json") in found
    codex = rules.candidates(rules.BY_NAME["codex"], "linux", home, {"CODEX_HOME": "/x"}, None)
    assert codex[0].path == Path("/x/config.toml")
    win = rules.candidates(rules.BY_NAME["vscode"], "win32", home, {"APPDATA": "C:/A"}, tmp_path)
    assert [str(c.path) for c in win] == [
        "C:/A/Code/User/mcp.json",
        str(tmp_path / ".vscode/mcp.json"),
    ]
    (tmp_path / ".cursor").mkdir()
    (tmp_path / ".cursor" / "mcp.json").write_text("{}")
    assert [c.client.name for c in rules.discover("linux", home, {}, tmp_path)] == ["cursor"] * 2


def test_ztmcp_command_is_absolute(tmp_path: Path) -> None:
    script = tmp_path / "ztmcp"
    script.write_text("")
    assert wrap.ztmcp_command(str(script), lambda _: None, sys.executable) == (str(script),)
    assert wrap.ztmcp_command("-c", lambda _: "/usr/bin/ztmcp", "py") == ("/usr/bin/ztmcp",)
    fallback = wrap.ztmcp_command("-m", lambda _: None, "python3")
    assert os.path.isabs(fallback[0]) and fallback[1:] == ("-m", "ztmcp")


def test_crlf_toml_gets_a_crlf_args_line_and_variables_stay_for_the_client(
    tmp_path: Path, backups: Backups
) -> None:
    path = tmp_path / "config.toml"
    original = b'# crlf\r\n[mcp_servers.time]\r\ncommand = "mcp-server-time"\r\n'
    path.write_bytes(original)
    config = ConfigFile(rules.BY_NAME["codex"], path, Scope.USER)
    ops.wrap_file(config, ZTMCP, which, backups, dry_run=False)
    assert b"\n" not in path.read_bytes().replace(b"\r\n", b"")
    ops.unwrap_file(config, backups, dry_run=False)
    assert path.read_bytes() == original
    vscode = tmp_path / "mcp.json"
    vscode.write_text('{"servers": {"x": {"command": "${workspaceFolder}/srv", "args": []}}}')
    config = ConfigFile(rules.BY_NAME["vscode"], vscode, Scope.PROJECT)
    ops.wrap_file(config, ZTMCP, which, backups, dry_run=False)
    (server,) = formats.servers(config.client, _data(config))
    assert server.args == ("run", "--name", "x", "--", "${workspaceFolder}/srv")


@pytest.mark.parametrize(
    ("command", "front"),
    [("/gone/venv/bin/ztmcp", []), ("/gone/venv/bin/python", ["-m", "ztmcp"])],
)
def test_an_entry_behind_a_ztmcp_that_is_gone_is_repointed(
    command: str, front: list[str], tmp_path: Path, backups: Backups
) -> None:
    import json

    args = [*front, "run", "--name", "t", "--", "/usr/local/bin/mcp-server-time", "-x"]
    path = tmp_path / "mcp.json"
    path.write_text(json.dumps({"mcpServers": {"t": {"command": command, "args": args}}}))
    config = ConfigFile(rules.BY_NAME["cursor"], path, Scope.USER)
    (server,) = formats.servers(config.client, _data(config))
    assert wrap.is_stale(server)
    outcome = ops.wrap_file(config, ZTMCP, which, backups, dry_run=False)
    assert [s.action for s in outcome.steps] == [Action.REPOINT]
    (server,) = formats.servers(config.client, _data(config))
    assert server.command == ZTMCP[0]
    assert server.args == ("run", "--name", "t", "--", "/usr/local/bin/mcp-server-time", "-x")
    again = ops.wrap_file(config, ZTMCP, which, backups, dry_run=False)
    assert not again.changed


@pytest.mark.parametrize("client", ["vscode", "windsurf", "codex", "claude-code"])
def test_http_servers_go_behind_a_local_proxy_with_http_port(
    client: str, tmp_path: Path, backups: Backups
) -> None:
    import itertools

    config = _config(tmp_path, client)
    original = config.path.read_bytes()
    ports = itertools.count(9100)
    outcome = ops.wrap_file(config, ZTMCP, which, backups, dry_run=False, ports=ports)
    web = [s for s in outcome.steps if s.server.name == "web"]
    assert web and all(s.action is Action.WRAP for s in web)
    assert "keep it running: ztmcp proxy --port 9100 --name web https://example.com/mcp" in (
        web[0].why
    )
    urls = [s.url for s in formats.servers(config.client, _data(config)) if s.name == "web"]
    assert urls[0] == "http://127.0.0.1:9100/mcp"
    again = ops.wrap_file(config, ZTMCP, which, backups, dry_run=False, ports=ports)
    assert not again.changed
    assert all(s.action is Action.WRAPPED for s in again.steps if s.server.name == "web")
    # Edited since: the entry-by-entry inverse gives the upstream URL back too.
    config.path.write_bytes(config.path.read_bytes() + b"\n")
    ops.unwrap_file(config, backups, dry_run=False)
    after = formats.servers(config.client, _data(config))
    assert next(s.url for s in after if s.name == "web") == "https://example.com/mcp"
    assert not any(wrap.is_wrapped(s) for s in after)
    # Unchanged since the wrap: byte for byte, the URL included.
    config.path.write_bytes(original)
    ops.wrap_file(config, ZTMCP, which, backups, dry_run=False, ports=ports)
    ops.unwrap_file(config, backups, dry_run=False)
    assert config.path.read_bytes() == original


def test_a_failed_rename_leaves_the_file_and_no_temp_behind(
    tmp_path: Path, backups: Backups, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Fault injection at the last step (the rename): the config keeps its bytes, no temp file
    is left, nothing is audited as written, and a later wrap still works."""
    import errno

    config = _config(tmp_path, "vscode")
    original = config.path.read_bytes()
    real_replace = os.replace

    def full_disk(src: str, dst: str) -> None:
        if Path(dst) == config.path:  # the backup in ztmcp state is written normally
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", full_disk)
    with pytest.raises(ConfigError, match="cannot write"):
        ops.wrap_file(config, ZTMCP, which, backups, dry_run=False)
    monkeypatch.setattr(os, "replace", real_replace)
    assert config.path.read_bytes() == original
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([FILES["vscode"], "home"])
    audit = paths.audit_dir()
    assert not audit.exists() or not any(
        r.get("event") == "client.wrap" for r in read_records(session_files(audit))
    )
    assert ops.wrap_file(config, ZTMCP, which, backups, dry_run=False).changed
    ops.unwrap_file(config, backups, dry_run=False)
    assert config.path.read_bytes() == original


def test_a_client_rewriting_the_file_meanwhile_wins(
    tmp_path: Path, backups: Backups, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The client saves its config while wrap runs (injected at the backup's rename, between
    wrap's read and its own rename): wrap writes nothing and says to run again."""
    config = _config(tmp_path, "claude-code")
    real_replace = os.replace
    theirs = b'{"mcpServers": {}, "numStartups": 4}'

    def client_saves(src: str, dst: str) -> None:
        real_replace(src, dst)
        if Path(dst) != config.path:
            config.path.write_bytes(theirs)

    monkeypatch.setattr(os, "replace", client_saves)
    with pytest.raises(ConfigError, match="changed while ztmcp was editing it"):
        ops.wrap_file(config, ZTMCP, which, backups, dry_run=False)
    assert config.path.read_bytes() == theirs


def test_the_proxy_command_it_prints_is_one_shell_command_line() -> None:
    # A client names a server "Brave Search", and a URL carries '&': pasted into a shell, the
    # printed command must give ztmcp proxy exactly these arguments.
    import shlex

    line = wrap.proxy_command(8931, "Brave Search", "https://example.com/mcp?a=1&b=2")
    assert shlex.split(line) == [
        "ztmcp", "proxy", "--port", "8931", "--name", "Brave Search",
        "https://example.com/mcp?a=1&b=2",
    ]  # fmt: skip
