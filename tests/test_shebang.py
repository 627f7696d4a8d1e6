"""The ``#!`` reader the sandbox and ``ztmcp wrap`` share (``ztmcp.shebang``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ztmcp.clients.wrap import launcher_note
from ztmcp.shebang import interpreter


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"#!/usr/bin/env node\nconsole.log(1)\n", "node"),
        (b"#! /usr/bin/env  python3 \n", "python3"),
        (b"#!/usr/bin/env -S node\n", "node"),
        (b"#!/usr/bin/env -S node --no-warnings\n", "node"),
        (b"#!/usr/bin/env -Snode --no-warnings\n", "node"),
        (b"#!/usr/bin/env -S -i node\n", "node"),
        (b"#!/usr/bin/env -S --flag\n", None),
        (b"#!/usr/bin/env -S NODE_OPTIONS=--x node app.js\n", "node"),
        (b"#!/usr/bin/env -S -u HOME -C /tmp python3 -I\n", "python3"),
        (b"#!/usr/bin/env -S A=1\n", None),
        (b"#!/usr/bin/env node --flag\n", None),  # ends in an option: not a name to look up
        (b"#!/usr/bin/python3 -I\n", "/usr/bin/python3"),
        (b"#!/bin/sh", "/bin/sh"),
        (b"#!\n", None),
        (b"#!/usr/bin/env\n", "/usr/bin/env"),
        (b"\x7fELF\x02\x01", None),
        (b"", None),
    ],
)
def test_the_interpreter_a_script_names(tmp_path: Path, head: bytes, expected: str | None) -> None:
    script = tmp_path / "script"
    script.write_bytes(head)
    assert interpreter(str(script)) == expected


def test_an_unreadable_file_names_none(tmp_path: Path) -> None:
    assert interpreter(str(tmp_path / "missing")) is None
    assert interpreter(str(tmp_path)) is None  # a directory


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_any_bytes_name_a_word_of_the_first_line_or_none(data: bytes) -> None:
    import tempfile

    with tempfile.NamedTemporaryFile() as f:
        f.write(data)
        f.flush()
        found = interpreter(f.name)
    if found is not None:
        assert data.startswith(b"#!")
        first = data[2:256].split(b"\n", 1)[0].decode(errors="replace").split()
        joined = any(w.startswith("-S") and w[2:] == found for w in first)  # env -Snode
        assert (found in first or joined) and not found.startswith("-")


def test_wrap_notes_only_an_env_lookup_a_launcher_would_miss(tmp_path: Path) -> None:
    env_script, direct = tmp_path / "env-script", tmp_path / "direct"
    env_script.write_text("#!/usr/bin/env my-node\n")
    direct.write_text("#!/opt/node/bin/node\n")
    on_no_path: dict[str, str | None] = {}

    def which(name: str, path: str) -> str | None:
        on_no_path[name] = path
        return None

    assert "#!/usr/bin/env my-node is not on a desktop launcher's PATH" in launcher_note(
        str(env_script), which
    )
    assert launcher_note(str(direct), which) == ""  # named by path: PATH plays no part
    assert set(on_no_path) == {"my-node"}
