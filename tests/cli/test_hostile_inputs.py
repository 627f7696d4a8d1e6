"""Every command that reads a document from a file, against hostile variants of it: one line
(cause, and what to do), exit 2, never a traceback, never a raw control character.

The variants are the ones a crash hunt found breaking that promise; each command path reads
through one shared reader (``jsonrpc.loads_document`` for JSON), so the cases are a table.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.fifo import unwritten_fifo
from tests.keyring_backends import memory_keyring
from ztmcp.cli.app import app

__all__ = ["memory_keyring"]  # a fixture used by name below

runner = CliRunner()

DEEP_LIST = b"[" * 10_000 + b"]" * 10_000
DEEP_OBJECT = b'{"a":' * 10_000 + b"1" + b"}" * 10_000
LONG_INT = b'{"tools": [], "x": 1' + b"1" * 5_000 + b"}"

JSON_VARIANTS = {"deep list": DEEP_LIST, "deep object": DEEP_OBJECT, "long integer": LONG_INT}

JSON_COMMANDS = {
    "scan": ["scan", "{F}"],
    "scan sarif": ["scan", "{F}", "--format", "sarif"],
    "eval": ["eval", "{F}"],
    "pin --manifest": ["pin", "x", "--manifest", "{F}", "--lockfile", "{D}/ztmcp.lock"],
}


def assert_one_line_error(result: object, code: int = 2) -> None:
    exit_code = result.exit_code  # type: ignore[attr-defined]
    output: str = result.output  # type: ignore[attr-defined]
    exception = result.exception  # type: ignore[attr-defined]
    assert exception is None or isinstance(exception, SystemExit), repr(exception)
    assert exit_code == code, output
    lines = [line for line in output.splitlines() if line.strip()]
    assert lines and lines[0].startswith("ztmcp: error:"), output
    assert len(lines) == 1 or (len(lines) == 2 and lines[1].startswith("  hint:")), output
    assert not any((ch < " " and ch not in "\n\t") or ch == "\x7f" for ch in output), output


def invoke(template: list[str], path: Path) -> object:
    args = [a.replace("{F}", str(path)).replace("{D}", str(path.parent)) for a in template]
    return runner.invoke(app, args)


@pytest.mark.parametrize("variant", sorted(JSON_VARIANTS))
@pytest.mark.parametrize("command", sorted(JSON_COMMANDS))
def test_json_document_past_the_decoders_limits_is_one_line(
    tmp_path: Path, command: str, variant: str
) -> None:
    path = tmp_path / "document.json"
    path.write_bytes(JSON_VARIANTS[variant])
    assert_one_line_error(invoke(JSON_COMMANDS[command], path))


TOML_VARIANTS = {
    "deep array": b"a = " + b"[" * 10_000 + b"]" * 10_000,
    "deep inline table": b"a = " + b"{b = " * 3_000 + b"1" + b"}" * 3_000,
    "long integer": b"a = 1" + b"1" * 5_000,
    "bad UTF-8": b'mode = "\xff"',
}

TOML_COMMANDS = {
    "pins --lockfile": ["pins", "--lockfile", "{F}"],
    "unpin --lockfile": ["unpin", "x", "--lockfile", "{F}"],
    "diff --lockfile": ["diff", "x", "--observed", "--lockfile", "{F}"],
    "run --policy": ["run", "--policy", "{F}", "--", "true"],
    "trust": ["trust", "{F}"],
    "export --policy": ["export", "--policy", "{F}"],
    "watch --policy": ["watch", "--policy", "{F}", "--", "true"],
}


@pytest.mark.parametrize("variant", sorted(TOML_VARIANTS))
@pytest.mark.parametrize("command", sorted(TOML_COMMANDS))
def test_toml_document_past_the_parsers_limits_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str, variant: str
) -> None:
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "ztmcp.toml"
    path.write_bytes(TOML_VARIANTS[variant])
    assert_one_line_error(invoke(TOML_COMMANDS[command], path))


@pytest.mark.parametrize("variant", sorted(TOML_VARIANTS))
@pytest.mark.parametrize("where", ["user config", "project policy", "project lock"])
def test_toml_state_past_the_parsers_limits_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str, variant: str
) -> None:
    import os

    monkeypatch.chdir(tmp_path)
    path = {
        "user config": Path(os.environ["ZTMCP_HOME"]) / "config.toml",
        "project policy": tmp_path / "ztmcp.toml",
        "project lock": tmp_path / "ztmcp.lock",
    }[where]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(TOML_VARIANTS[variant])
    assert_one_line_error(runner.invoke(app, ["pins"]))


FILE_COMMANDS = {
    **JSON_COMMANDS,
    **TOML_COMMANDS,
    "wrap --config": ["wrap", "--config", "{F}", "--dry-run"],
    "audit verify FILE": ["audit", "verify", "{F}"],
    "sign": ["sign", "{F}", "--identity-token", "x"],
}


@pytest.fixture
def fifo(tmp_path: Path) -> Iterator[Path]:
    """A FIFO no one writes to; if a reader blocks on it anyway, a writer comes after 5 s and
    goes, so the reader sees the end and the test fails instead of hanging."""
    with unwritten_fifo(tmp_path / "document.json") as path:
        yield path


@pytest.mark.parametrize("command", sorted(FILE_COMMANDS))
def test_a_fifo_for_a_file_is_refused_not_waited_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fifo: Path, command: str
) -> None:
    monkeypatch.chdir(tmp_path)
    started = time.monotonic()
    result = invoke(FILE_COMMANDS[command], fifo)
    assert time.monotonic() - started < 5, "blocked on the FIFO"
    if command == "audit verify FILE":  # a verdict on the log, not an error: BROKEN, exit 1
        assert result.exit_code == 1 and "not a regular file" in result.output, result.output
    else:  # trust says its errors with exit 1
        assert_one_line_error(result, 1 if command == "trust" else 2)


@pytest.mark.parametrize(
    "command", [["audit", "show"], ["audit", "verify"], ["baseline"], ["report"]]
)
def test_a_fifo_in_the_audit_directory_is_not_waited_on(
    monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    audit = Path(os.environ["ZTMCP_HOME"]) / "audit"
    audit.mkdir(parents=True)
    with unwritten_fifo(audit / "20260101T000000Z-x.jsonl"):
        result = runner.invoke(app, command)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert result.exit_code in (0, 1, 2), result.output


@pytest.mark.parametrize("variant", sorted(JSON_VARIANTS))
@pytest.mark.parametrize(
    "command",
    [["audit", "show"], ["audit", "show", "--json"], ["audit", "verify"], ["baseline"], ["report"]],
)
def test_a_hostile_audit_line_is_skipped_or_reported_not_a_traceback(
    command: list[str], variant: str
) -> None:
    audit = Path(os.environ["ZTMCP_HOME"]) / "audit"
    audit.mkdir(parents=True)
    good = b'{"ts": "2026-12-07T10:00:00Z", "event": "session.start", "server": "s"}\n'
    (audit / "20261207T100000Z-s.jsonl").write_bytes(good + JSON_VARIANTS[variant] + b"\n")
    result = runner.invoke(app, command)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    # verify never passes such a log (1: BROKEN); the readers skip the line (0)
    assert result.exit_code == (1 if command == ["audit", "verify"] else 0), result.output


def test_help_texts_keep_their_brackets() -> None:
    # Help is rendered as rich markup: an unescaped "[watch]" is read as a style tag and
    # vanishes ("A TOML file with  and ."); every command's and option's text escapes it.
    import re

    import typer.main

    def walk(command: Any) -> Iterator[Any]:
        yield command
        for sub in getattr(command, "commands", {}).values():
            yield from walk(sub)

    tag = re.compile(r"(?<!\\)\[/?[a-z_.]+\]")
    for command in walk(typer.main.get_command(app)):
        texts = [command.help or ""] + [getattr(p, "help", None) or "" for p in command.params]
        for text in texts:
            assert not tag.search(text), (command.name, text)


@pytest.mark.parametrize("name", ["a" * 5_000, "a" * 5_000 + ".json"])
def test_scan_of_a_name_too_long_for_a_path_is_one_line(name: str) -> None:
    assert_one_line_error(runner.invoke(app, ["scan", name]))


@pytest.mark.parametrize("control", ["\x1b[31m", "\x1b]0;title\x07", "\x9b31m", "\u202e", "\r"])
def test_run_escapes_its_error_line_for_the_terminal(tmp_path: Path, control: str) -> None:
    # `ztmcp run` prints its errors without typer (start-up): the same escaping as the rest.
    missing = tmp_path / f"policy{control}.toml"
    result = runner.invoke(app, ["run", "--policy", str(missing), "--", "true"])
    assert_one_line_error(result)
    assert control not in result.output


@pytest.mark.parametrize("variant", sorted(JSON_VARIANTS))
def test_a_hostile_approval_store_approves_nothing_in_one_piece(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, variant: str
) -> None:
    monkeypatch.chdir(tmp_path)
    store = Path(os.environ["ZTMCP_HOME"]) / "approved.json"
    store.parent.mkdir(parents=True, exist_ok=True)
    store.write_bytes(JSON_VARIANTS[variant])
    result = runner.invoke(app, ["trust", "--list"])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert result.exit_code == 0, result.output


@contextlib.contextmanager
def _not_a_file(path: Path, kind: str) -> Iterator[None]:
    """A directory, a link loop or a FIFO (``unwritten_fifo``) where a file belongs."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "FIFO":
        with unwritten_fifo(path):
            yield
        return
    if kind == "directory":
        path.mkdir()
    else:
        path.symlink_to(path)
    yield


@pytest.mark.parametrize("kind", ["directory", "link loop", "FIFO"])
@pytest.mark.parametrize("name", ["audit/sessions.index", "audit-key.json"])
def test_audit_verify_with_its_state_not_a_file_is_a_verdict(name: str, kind: str) -> None:
    home = Path(os.environ["ZTMCP_HOME"])
    (home / "audit").mkdir(parents=True)
    (home / "audit" / "20261207T100000Z-s.jsonl").write_bytes(b'{"seq": 0}\n')
    with _not_a_file(home / name, kind):
        result = runner.invoke(app, ["audit", "verify"])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert result.exit_code in (1, 2), result.output
    assert "Traceback" not in result.output


CURSORS = {
    "a list": b"[]",
    "a text offset": b'{"file": "", "offset": "x"}',
    "an infinite offset": b'{"file": "", "offset": 1e999}',
    "a negative offset": b'{"file": "", "offset": -5}',
    "a number for a file": b'{"file": 5, "offset": 0}',
    **JSON_VARIANTS,
}


@pytest.mark.parametrize("variant", sorted(CURSORS))
def test_a_hostile_export_cursor_is_one_line(variant: str) -> None:
    from ztmcp.export.otlp import cursor_path

    cursor = cursor_path()
    cursor.parent.mkdir(parents=True)
    cursor.write_bytes(CURSORS[variant])
    result = runner.invoke(app, ["export", "--endpoint", "http://127.0.0.1:9"])
    assert_one_line_error(result)
    assert "export cursor" in result.output


@pytest.mark.parametrize("kind", ["directory", "link loop", "FIFO"])
@pytest.mark.parametrize("name", ["export-cursor", "audit/20261207T100000Z-s.jsonl"])
def test_export_with_its_state_not_a_file_is_one_line(name: str, kind: str) -> None:
    from ztmcp.export.otlp import cursor_path

    home = Path(os.environ["ZTMCP_HOME"])
    path = cursor_path() if name == "export-cursor" else home / name
    with _not_a_file(path, kind):
        result = runner.invoke(app, ["export", "--endpoint", "http://127.0.0.1:9"])
    if name != "export-cursor" and kind == "directory":  # not a log (*.jsonl dirs are skipped)
        assert result.exception is None or isinstance(result.exception, SystemExit)
        return
    assert_one_line_error(result)


@pytest.mark.usefixtures("memory_keyring")
@pytest.mark.parametrize("variant", [*sorted(JSON_VARIANTS), "directory", "link loop", "FIFO"])
def test_a_hostile_secret_index_is_one_line(variant: str) -> None:
    index = Path(os.environ["ZTMCP_HOME"]) / "secrets.json"
    if variant in JSON_VARIANTS:
        index.parent.mkdir(parents=True, exist_ok=True)
        index.write_bytes(JSON_VARIANTS[variant])
        result = runner.invoke(app, ["secret", "list"])
    else:
        with _not_a_file(index, variant):
            result = runner.invoke(app, ["secret", "list"])
    assert_one_line_error(result)
    assert "secret index" in result.output
