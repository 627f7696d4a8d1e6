"""`ztmcp --help` loads only what listing the commands needs: each command's heavy modules load
with the command (a structural check; the time is measured, not asserted: see the report)."""

from __future__ import annotations

import subprocess
import sys

# Loaded by the commands that use them, never by `ztmcp --help`.
HEAVY = (
    "ztmcp.state.audit",
    "ztmcp.state.approvals",
    "ztmcp.state.grants",
    "ztmcp.report",
    "ztmcp.detectors.secrets",
    "textual",
    "mitmproxy",
    "sigstore",
    "mcp",
)


def test_the_command_list_does_not_load_the_commands_heavy_modules() -> None:
    code = (
        "import sys; from ztmcp.cli.app import app; "
        f"print(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == []


def test_help_still_lists_every_command() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "ztmcp", "--help"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    for command in ("run", "proxy", "grant", "grants", "revoke", "report", "audit", "scan",
                    "pin", "pins", "diff", "tui", "secret"):  # fmt: skip
        assert f" {command} " in done.stdout, command


# What `ztmcp --help` itself must not load: the proxy's event loop (asyncio), typer's markdown
# and traceback renderers (ztmcp.compat.typer), the installed-metadata reader.
HELP_NEVER = ("asyncio", "markdown_it", "pygments", "importlib.metadata", "ztmcp.runtime")


def test_help_does_not_load_what_only_commands_or_unused_renderers_need() -> None:
    code = (
        "import atexit, sys\n"
        "atexit.register(lambda: print(' '.join(m for m in sys.modules if m in set(sys.argv[1:])"
        " | {'typer.rich_utils', 'ztmcp.cli.app'})))\n"
        "from ztmcp.cli.main import main\n"
        "main(['--help'])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, *HELP_NEVER], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    loaded = set(done.stdout.splitlines()[-1].split())
    assert {"typer.rich_utils", "ztmcp.cli.app"} <= loaded  # help was drawn, by typer
    assert sorted(loaded & set(HELP_NEVER)) == []
