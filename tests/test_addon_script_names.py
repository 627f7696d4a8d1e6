"""``mitmdump -s addons/ztmcp_addon.py --set ztmcp_name=… --set ztmcp_allow_host=…``: the
script's options name the server and the accepted Host and Origin values as ``ztmcp proxy``'s
``--name``, ``--allow-host`` and ``--allow-origin`` do, so they are read by the same
``ztmcp.names`` kinds: a refused one stops the proxy (fail closed) before the audit log opens,
with the one error line in mitmproxy's log."""

from __future__ import annotations

import importlib.util
import logging
import os
from pathlib import Path
from typing import Any

import pytest
from mitmproxy.addons import proxyserver
from mitmproxy.test import taddons

from ztmcp.terminal import unsafe

SCRIPT = Path(__file__).resolve().parents[1] / "addons" / "ztmcp_addon.py"


def _entry() -> Any:
    spec = importlib.util.spec_from_file_location("ztmcp_addon_under_test", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.ZtmcpEntry()


def _start(tmp_path: Path, **options: Any) -> tuple[Any, list[str]]:
    """The script's entry under a test master (its proxy server's options, no listener)."""
    entry = _entry()
    stopped: list[str] = []
    with taddons.context(proxyserver.Proxyserver(), entry) as tctx:
        tctx.master.shutdown = lambda: stopped.append("shutdown")  # type: ignore[method-assign]
        tctx.configure(
            entry,
            mode=["reverse:http://127.0.0.1:9"],  # loopback, where nothing listens
            ztmcp_policy=str(tmp_path / "ztmcp.toml"),
            **options,
        )
        entry.running()
        if entry.addon is not None:
            entry.done()
    return entry, stopped


@pytest.mark.parametrize(
    "options",
    [
        {"ztmcp_name": "srv\x1b]0;x\x07"},
        {"ztmcp_name": "srv\u202e"},
        {"ztmcp_allow_host": ["a\x1b[2J:80"]},
        {"ztmcp_allow_origin": ["https://a.example\u2028"]},
    ],
    ids=["name OSC", "name bidi", "host CSI", "origin line separator"],
)
def test_a_refused_option_stops_the_script_before_anything_is_recorded(
    options: dict[str, Any],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "ztmcp.toml").write_text('[access]\ndefault = "allow"\n')
    with caplog.at_level(logging.ERROR, logger="ztmcp"):
        entry, stopped = _start(tmp_path, **options)
    assert entry.addon is None and stopped == ["shutdown"]
    said = [r.getMessage() for r in caplog.records if r.name == "ztmcp"]
    assert said and said[0].startswith("ztmcp: error: invalid "), said
    assert not [c for c in said[0] if c != "\n" and unsafe(c)], said  # shown escaped
    home = Path(os.environ["ZTMCP_HOME"])
    assert not list(home.rglob("*.jsonl")), "nothing is recorded under a refused name"


def test_good_options_start_the_script(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "ztmcp.toml").write_text('[access]\ndefault = "allow"\n')
    entry, stopped = _start(
        tmp_path,
        ztmcp_name="@scope/server fs",
        ztmcp_allow_host=["MCP.local:8931"],
        ztmcp_allow_origin=["chrome-extension://" + "a" * 32],
    )
    assert stopped == [] and entry.addon is None  # started, then stopped by done()
    assert entry.runtime is None
