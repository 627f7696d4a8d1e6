"""``ztmcp.compat.typer``: help drawn with typer's renderer while ``rich.markdown`` and
``rich.traceback`` are deferred is the same text, byte for byte, as without; a stand-in is the
real class on first use; nothing is deferred on an untested typer. Each case in a fresh
interpreter (what is in ``sys.modules`` is the point)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

_PLAIN = "from ztmcp.cli.app import app; app(args=sys.argv[1:], prog_name='ztmcp')"


def _run(*argv: str, code: str | None = None) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-c", f"import sys; {code}", *argv] if code else [
        sys.executable, "-m", "ztmcp", *argv
    ]  # fmt: skip
    env = {**os.environ, "COLUMNS": "100", "TERM": "dumb"}
    return subprocess.run(command, capture_output=True, text=True, timeout=60, env=env)


@pytest.mark.parametrize(
    "argv",
    [("--help",), (), ("grant", "--help"), ("proxy", "-h"), ("grant", "--help", "--bogus")],
)
def test_help_is_the_same_text_as_typers_own(argv: tuple[str, ...]) -> None:
    deferred = _run(*argv)
    plain = _run(*argv, code=_PLAIN)
    assert (deferred.returncode, deferred.stdout, deferred.stderr) == (
        plain.returncode,
        plain.stdout,
        plain.stderr,
    )
    assert "Usage: ztmcp" in deferred.stdout + deferred.stderr


_PROBE = """
import sys
from ztmcp.compat.typer import deferred_help_imports
assert deferred_help_imports() is True
assert deferred_help_imports() is False  # once
import typer.rich_utils as ru
assert "markdown_it" not in sys.modules and "pygments" not in sys.modules
md = ru.Markdown("# hi")  # the real class on first use
import rich.markdown, rich.traceback
assert type(md) is rich.markdown.Markdown and isinstance(md, ru.Markdown)
assert ru.Traceback.from_exception.__func__ is rich.traceback.Traceback.from_exception.__func__
assert issubclass(rich.traceback.Traceback, ru.Traceback)
assert sys.modules["rich.markdown"] is rich.markdown and hasattr(rich.markdown, "Heading")
print("ok")
"""


def test_a_stand_in_is_the_real_class_on_first_use() -> None:
    done = _run(code=_PROBE)
    assert done.stdout.strip() == "ok", done.stderr


def test_nothing_is_deferred_on_an_untested_typer_or_when_already_loaded() -> None:
    untested = (
        "import typer; typer.__version__ = '0.0.1'\n"
        "from ztmcp.compat.typer import deferred_help_imports\n"
        "assert deferred_help_imports() is False and 'typer.rich_utils' not in sys.modules\n"
        "import rich.markdown\n"
        "print('ok')"
    )
    loaded = (
        "import rich.markdown\n"
        "from ztmcp.compat.typer import deferred_help_imports\n"
        "assert deferred_help_imports() is False\n"
        "import typer.rich_utils as ru\n"
        "assert ru.Markdown is rich.markdown.Markdown\n"
        "print('ok')"
    )
    for code in (untested, loaded):
        done = _run(code=code)
        assert done.stdout.strip() == "ok", done.stderr
