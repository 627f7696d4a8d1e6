"""One pipeline assembly: ``ztmcp run``, ``ztmcp proxy`` and the mitmdump script build their
checks, audit log, edges and sessions through ``ztmcp.runtime``, never by hand."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from ztmcp.errors import UsageError
from ztmcp.jsonrpc import Direction
from ztmcp.runtime import ProxySettings, Stdio, build, parse_upstream

ROOT = Path(__file__).resolve().parents[1]
POLICY = '[[access.rule]]\ntool = "rm_*"\naction = "deny"\n'
DENIED = b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"rm_rf","arguments":{}}}'


@pytest.fixture()
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ZTMCP_HOME", str(tmp_path / "home"))
    (tmp_path / "ztmcp.toml").write_text(POLICY)
    return tmp_path


def _records(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_bytes().splitlines() if line]


def test_stdio_and_http_get_the_same_checks_and_decisions(home: Path) -> None:
    said: list[str] = []
    stdio = build(Stdio(("srv", "--token", "t0k")), cwd=home, say=said.append)
    http = build(parse_upstream("http://127.0.0.1:9/mcp"), cwd=home, say=said.append)
    assert [c.name for c in stdio.checks] == [c.name for c in http.checks]
    assert (stdio.name, http.name) == ("srv", "127.0.0.1")
    for runtime in (stdio, http):
        decision = runtime.session().handle(Direction.TO_SERVER, DENIED)
        assert decision.outcome.value == "denied" and decision.reply is not None
    assert "t0k" not in json.dumps(stdio.where)  # only the command's digest
    stdio.close("done")
    http.close("done")
    first = _records(http.audit.path)[0]
    assert first["event"] == "session.start" and first["adapter"] == "proxy"
    assert _records(stdio.audit.path)[-1]["event"] == "session.end"


def test_the_proxy_addon_is_built_from_the_runtime(home: Path) -> None:
    runtime = build(parse_upstream("http://127.0.0.1:9/mcp"), cwd=home, say=print)
    addon = runtime.proxy_addon(ProxySettings(allow_hosts=("mcp.local:80",)))
    assert addon.server == runtime.name and addon.max_bytes == runtime.policy.limits.max_bytes
    runtime.close("done")
    with pytest.raises(UsageError):
        build(Stdio(("srv",)), cwd=home, say=print).proxy_addon()


def test_the_pin_hints_of_an_http_server_name_its_url(home: Path) -> None:
    """Issue 22: the hint for an HTTP server said ``ztmcp pin NAME -- CMD…``."""
    runtime = build(parse_upstream("http://127.0.0.1:9/mcp?k=v"), cwd=home, say=print)
    stdio = build(Stdio(("srv",)), cwd=home, say=print)
    try:
        assert runtime.pins is not None and runtime.pins.url == "http://127.0.0.1:9/mcp"
        assert stdio.pins is not None and stdio.pins.url is None
    finally:
        runtime.close("done")
        stdio.close("done")


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names |= {f"{node.module}.{a.name}" for a in node.names}
        elif isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
    return names


def test_no_entry_point_assembles_the_pipeline_by_hand() -> None:
    script = _imports(ROOT / "addons" / "ztmcp_addon.py")
    assert not any(n.startswith("ztmcp.cli") for n in script)  # no typer, no CLI internals
    assert "ztmcp.runtime" in script
    proxy = _imports(ROOT / "ztmcp" / "cli" / "proxy_cmd.py")
    assert not any(n.startswith("ztmcp.cli.run_cmd") for n in proxy)
    for entry in (ROOT / "ztmcp" / "cli" / "proxy_cmd.py", ROOT / "ztmcp" / "cli" / "run_cmd.py"):
        names = _imports(entry)
        assert not names & {"ztmcp.policy.build_checks", "ztmcp.state.audit.AuditLog"}
