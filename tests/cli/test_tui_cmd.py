"""``ztmcp tui``: option checking before Textual starts, and Textual only when it is used."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from ztmcp.cli.app import app

runner = CliRunner()


def test_help_lists_the_keys_and_options() -> None:
    result = runner.invoke(app, ["tui", "--help"])
    assert result.exit_code == 0
    for word in ("--since", "--lock", "--grant-times", "held calls", "revokes"):
        assert word in result.output


def test_bad_options_are_one_line_errors(tmp_path: Path) -> None:
    for args, text in (
        (["--since", "yesterday"], "not a duration: 'yesterday'"),
        (["--grant-times", "5m,1h"], "needs three durations"),
        (["--grant-times", "5m,1h,soon"], "not a duration: 'soon'"),
        (["--lock", str(tmp_path / "missing.lock")], "no lock file"),
    ):
        result = runner.invoke(app, ["tui", *args])
        assert result.exit_code == 2, args
        assert text in result.output and "Traceback" not in result.output


def test_textual_is_imported_only_by_the_command() -> None:
    probe = (
        "import sys, ztmcp.cli.app, ztmcp.tui.watcher, ztmcp.tui.state, ztmcp.tui.drift; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'textual'))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "[]"
