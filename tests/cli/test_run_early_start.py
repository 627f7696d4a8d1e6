"""``ztmcp run`` starts the server before it loads the pipeline when no policy can change how
the server starts (docs/design.md, "Start-up: the server starts while ztmcp loads").

Real ``ztmcp run`` processes; a probe (as in ``test_run_startup.py``) wraps ``spawn_server``
to see when the server starts, and, for the race, writes a policy file right after it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ztmcp import policy
from ztmcp.cli import run_cmd
from ztmcp.cli.run_cmd import SPAWN_FIELDS, RunOptions, unconfined

ROOT = Path(__file__).resolve().parents[2]
TRIVIAL = ROOT / "benchmarks" / "trivial_server.py"
PING = b'{"jsonrpc":"2.0","id":1,"method":"ping"}\n'

# ``python -c _PROBE run …``: records each spawn (whether the policy module was loaded by
# then, and the child) in ZTMCP_TEST_PROBE_OUT; with ZTMCP_TEST_WRITE_CONFIG set, writes the
# user config right after the first spawn (a policy file appearing while ztmcp starts).
_PROBE = r"""
import json, os, runpy, sys
import ztmcp.adapters.spawn as spawn
real = spawn.spawn_server
seen = []
def probed(argv, env=None):
    child = real(argv, env)
    seen.append({"policy_loaded": "ztmcp.policy" in sys.modules, "pid": child.pid})
    with open(os.environ["ZTMCP_TEST_PROBE_OUT"], "w") as out:
        json.dump(seen, out)
    config = os.environ.get("ZTMCP_TEST_WRITE_CONFIG")
    if config and len(seen) == 1:
        with open(config, "w") as f:
            f.write('mode = "monitor"\n')
    return child
spawn.spawn_server = probed
sys.argv = ["ztmcp", *sys.argv[1:]]
runpy.run_module("ztmcp", run_name="__main__")
"""


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "ZTMCP_HOME": str(tmp_path / "home"),
        "ZTMCP_TEST_PROBE_OUT": str(tmp_path / "spawns.json"),
        "PYTHONPATH": str(ROOT),
        **extra,
    }


def _probe(
    tmp_path: Path, *args: str, **extra: str
) -> tuple[subprocess.CompletedProcess[bytes], list[dict[str, object]]]:
    (tmp_path / "home").mkdir(exist_ok=True)
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            _PROBE,
            "run",
            "--name",
            "t",
            *args,
            "--",
            sys.executable,
            str(TRIVIAL),
        ],
        input=PING,
        cwd=tmp_path,
        env=_env(tmp_path, **extra),
        capture_output=True,
        timeout=60,
    )
    spawns: list[dict[str, object]] = json.loads((tmp_path / "spawns.json").read_text())
    return done, spawns


def test_every_option_is_classified() -> None:
    """An option either may change how the server starts (then the server waits for the
    policy) or is listed here as one that does not: a new option must be placed."""
    assert set(SPAWN_FIELDS) | {"name", "monitor", "grace", "command"} == set(RunOptions.FIELDS)
    assert run_cmd.PROJECT_FILE == policy.PROJECT_FILE


def test_only_a_run_no_policy_can_change_starts_early(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    assert unconfined(RunOptions(name="x", monitor=True, grace=1.0), tmp_path, config)
    for field, value in [
        ("policy", Path("p.toml")),
        ("sandbox", True),
        ("learn", True),
        ("intercept_tls", True),
        ("allow_read", ["/x"]),
        ("allow_write", ["/x"]),
        ("allow_net", ["x"]),
        ("allow_env", ["X"]),
    ]:
        assert not unconfined(RunOptions(**{field: value}), tmp_path, config), field
    config.write_text("")
    assert not unconfined(RunOptions(), tmp_path, config)
    config.unlink()
    (tmp_path / "ztmcp.toml").write_text("")
    assert not unconfined(RunOptions(), tmp_path, config)


def test_without_a_policy_file_the_server_starts_before_the_policy_loads(tmp_path: Path) -> None:
    done, spawns = _probe(tmp_path)
    assert b'"result"' in done.stdout, done.stderr[-2000:]
    assert [s["policy_loaded"] for s in spawns] == [False]


def test_with_a_policy_file_the_server_starts_after_it(tmp_path: Path) -> None:
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / "config.toml").write_text('mode = "monitor"\n')
    done, spawns = _probe(tmp_path)
    assert b'"result"' in done.stdout, done.stderr[-2000:]
    assert [s["policy_loaded"] for s in spawns] == [True]


def test_a_policy_file_that_appears_meanwhile_restarts_the_server_under_it(
    tmp_path: Path,
) -> None:
    config = tmp_path / "home" / "config.toml"
    done, spawns = _probe(tmp_path, ZTMCP_TEST_WRITE_CONFIG=str(config))
    assert b'"result"' in done.stdout, done.stderr[-2000:]
    assert [s["policy_loaded"] for s in spawns] == [False, True]
    with pytest.raises(ProcessLookupError):  # the early one was killed (and reaped)
        os.kill(int(str(spawns[0]["pid"])), 0)


def test_a_failure_after_the_early_start_kills_the_server_and_says_one_line(
    tmp_path: Path,
) -> None:
    """The audit log cannot be opened (ZTMCP_HOME is a file): the server started early is
    killed before it gets anywhere, and the error is the usual one line, exit 2."""
    home = tmp_path / "home-file"
    home.write_text("not a directory")
    marker = tmp_path / "got-far"
    server = f"import pathlib, time; time.sleep(1); pathlib.Path({str(marker)!r}).touch()"
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, "run", "--", sys.executable, "-c", server],
        input=PING,
        cwd=tmp_path,
        env={**_env(tmp_path), "ZTMCP_HOME": str(home)},
        capture_output=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stderr[-2000:]
    said = done.stderr.decode()
    assert said.startswith("ztmcp: error: cannot create audit log") and "hint:" in said, said
    assert "Traceback" not in said
    assert done.stdout == b""
    spawns = json.loads((tmp_path / "spawns.json").read_text())
    assert [s["policy_loaded"] for s in spawns] == [False]
    with pytest.raises(ProcessLookupError):
        os.kill(spawns[0]["pid"], 0)
    time.sleep(1.5)
    assert not marker.exists()
