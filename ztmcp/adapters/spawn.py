"""Starting and ending an MCP server process, without the relay.

Apart from ``adapters.stdio`` (which imports the Session and every check) so that ``ztmcp
run`` can start the server before it loads the pipeline: see ``docs/design.md``, "Start-up:
the server starts while ztmcp loads".
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Sequence

from ztmcp.errors import UsageError


def spawn_server(argv: Sequence[str], env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    """Start the MCP server with piped stdin/stdout; its stderr is ours.

    Separate from the relay so ``ztmcp run`` can start the server first and load policy and
    checks while the server boots (both take a noticeable part of a second).
    """
    if not argv:
        raise UsageError("no server command given", hint="ztmcp run -- CMD ARGS…")
    try:
        return subprocess.Popen(
            list(argv),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=None,
            bufsize=0,
            env=env,
            start_new_session=True,  # so shutdown reaches the server's own children too
        )
    except FileNotFoundError:
        raise UsageError(
            f"cannot start the server: {argv[0]!r} not found",
            hint="check the command after '--' (is it installed and on PATH?)",
        ) from None
    except PermissionError:
        raise UsageError(
            f"cannot start the server: {argv[0]!r} is not executable",
            hint="check the file's permissions",
        ) from None
    except OSError as exc:  # e.g. a script without a "#!" line (ENOEXEC)
        raise UsageError(
            f"cannot start the server: {argv[0]!r}: {exc.strerror or exc}",
            hint="check the command after '--'",
        ) from None


def kill_server(child: subprocess.Popen[bytes]) -> None:
    """End a server (and its process group) that will not be relayed after all."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(child.pid, signal.SIGKILL)
    child.wait()
