"""Wrap or unwrap one config file: plan, back up, audit, write (in that order).

The backup and the audit log are opened before the file is touched: if either cannot be
recorded, the file is left as it was.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ztmcp.clients import formats, wrap
from ztmcp.clients.jsonc import ConfigError
from ztmcp.clients.rules import ConfigFile
from ztmcp.clients.wrap import Action, Backup, Backups, Step
from ztmcp.documents import read_file
from ztmcp.state import paths


@dataclass(frozen=True)
class Outcome:
    config: ConfigFile
    before: str
    after: str
    steps: tuple[Step, ...]
    note: str = ""

    @property
    def changed(self) -> bool:
        return self.before != self.after


def read_text(path: Path) -> tuple[bytes, str]:
    try:
        data = read_file(path)
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
    try:
        return data, data.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{path} is not UTF-8 text") from None


def inspect(config: ConfigFile) -> list[formats.Server]:
    _, text = read_text(config.path)
    return formats.servers(config.client, formats.load(config.client, text, str(config.path)))


def _write(path: Path, data: bytes, read: bytes) -> None:
    """Replace ``path`` unless it changed since it was ``read`` (a client rewriting its own
    config meanwhile: Claude Code rewrites ``~/.claude.json`` often); then run again."""
    try:
        if path.read_bytes() != read:
            raise ConfigError(
                f"{path} changed while ztmcp was editing it; nothing was written",
                hint="run the command again",
            )
        paths.write_atomic(path, data)
    except OSError as exc:
        raise ConfigError(f"cannot write {path}: {exc.strerror}") from None


def _audit(event: dict[str, Any]) -> None:
    from ztmcp.state import paths
    from ztmcp.state.audit import AuditLog

    log = AuditLog.create(paths.audit_dir(), event["event"].replace(".", "-"))
    try:
        log.append(event)
    finally:
        log.close()


def _record(kind: str, outcome: Outcome, data: bytes, after: bytes) -> None:
    _audit(
        {
            "event": kind,
            "client": outcome.config.client.name,
            "path": str(outcome.config.path),
            "servers": [s.server.name for s in outcome.steps if s.change is not None],
            "before.sha256": wrap.sha256(data),
            "after.sha256": wrap.sha256(after),
        }
    )


def _which_in(name: str, path: str) -> str | None:
    import shutil

    return shutil.which(name, path=path)


def _noted(step: Step) -> Step:
    if step.action is not Action.WRAP or step.change is None or step.change.url is not None:
        return step
    note = wrap.launcher_note(step.change.insert[-1], _which_in)
    return replace(step, why=note) if note else step


def wrap_file(
    config: ConfigFile,
    ztmcp: tuple[str, ...],
    which: Callable[[str], str | None],
    backups: Backups,
    *,
    dry_run: bool,
    ports: Iterator[int] | None = None,
) -> Outcome:
    where = str(config.path)
    data, text = read_text(config.path)
    client = config.client
    servers = formats.servers(client, formats.load(client, text, where))
    backup = backups.get(config.path)
    originals: dict[tuple[str, ...], Any] = dict(backup.originals) if backup else {}
    if backup is None:
        original = data
    elif wrap.sha256(data) == backup.wrapped_sha256:
        original = backup.original
    else:  # edited since the last wrap: the original is now this file, unwrapped
        undo = wrap.plan_unwrap(servers, originals)
        original = wrap.apply(client, text, where, undo).encode()
    planned = wrap.plan_wrap(servers, ztmcp, which, client, ports=ports, originals=originals)
    steps = [_noted(step) for step in planned]
    after = wrap.apply(client, text, where, steps)
    for step in steps:
        change = step.change
        if step.action is not Action.WRAP or change is None:
            continue
        if change.url is not None:
            originals[step.server.key] = {"url": step.server.url, "url_local": change.url}
        else:
            resolved = change.insert[-1]
            originals[step.server.key] = {"command": step.server.command, "resolved": resolved}
    outcome = Outcome(config, text, after, tuple(steps))
    if dry_run or not outcome.changed:
        return outcome
    encoded = after.encode()
    backups.put(config.path, Backup(where, original, wrap.sha256(encoded), originals))
    _write(config.path, encoded, data)
    _record("client.wrap", outcome, data, encoded)
    return outcome


def unwrap_file(config: ConfigFile, backups: Backups, *, dry_run: bool) -> Outcome:
    where = str(config.path)
    data, text = read_text(config.path)
    client = config.client
    servers = formats.servers(client, formats.load(client, text, where))
    backup = backups.get(config.path)
    steps = wrap.plan_unwrap(servers, backup.originals if backup else {})
    if backup is not None and wrap.sha256(data) == backup.wrapped_sha256:
        after_bytes = backup.original
        after = after_bytes.decode("utf-8")
        note = "restored byte for byte from the copy kept at wrap time"
    else:
        after = wrap.apply(client, text, where, steps)
        after_bytes = after.encode()
        note = (
            "the file changed since ztmcp wrap: only the wrapped entries were edited back"
            if backup is not None
            else "no copy kept by ztmcp wrap: only the wrapped entries were edited back"
        )
    outcome = Outcome(config, text, after, tuple(steps), note if after != text else "")
    if dry_run:
        return outcome
    if outcome.changed:
        _write(config.path, after_bytes, data)
        _record("client.unwrap", outcome, data, after_bytes)
    backups.drop(config.path)
    return outcome
