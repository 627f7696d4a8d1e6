"""Every audit record as an OpenTelemetry log record over OTLP/HTTP, resumable, off the hot path.

The exporter reads the audit files (the local log is the source of truth), never the proxy: a
slow or absent collector can delay the export but never a call. Each record becomes one OTel
log record (official SDK types, official OTLP/HTTP exporter): ``event_name`` and body are the
record's ``event``, its timestamp the record's ``ts``, and every field an attribute under its
own name (the GenAI and MCP semantic-convention names the records already use; lists of
scalars as arrays, anything else as JSON text), plus the record's place in its chain:
``ztmcp.audit.file``, ``ztmcp.audit.seq``, ``ztmcp.audit.prev`` and ``ztmcp.audit.mac``, so a
SIEM can check that no record is missing (``seq`` without gaps, each ``prev`` the previous
``mac``).

A cursor (``$ZTMCP_HOME/export/otlp-cursor.json``: the file and the byte offset after the last
record the collector accepted) is advanced only after a batch is accepted and is written
atomically, so a failed export is retried from where it stopped: nothing is lost, and at most
the batch in flight when ztmcp stopped is sent twice. Only whole lines are exported.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from ztmcp.documents import open_file, read_file
from ztmcp.errors import ZtmcpError
from ztmcp.state import paths
from ztmcp.state.audit import session_files

BATCH: Final = 512
CURSOR_NAME: Final = "otlp-cursor.json"
MAX_ATTRIBUTE_CHARS: Final = 8192
_CHAIN: Final = {"seq": "ztmcp.audit.seq", "prev": "ztmcp.audit.prev", "mac": "ztmcp.audit.mac"}


class ExportError(ZtmcpError):
    """The collector did not accept a batch; the cursor is where it was."""


@dataclass(frozen=True, slots=True)
class Cursor:
    file: str = ""  # the session file being read ("" before the first)
    offset: int = 0  # bytes of it already exported


def cursor_path() -> Path:
    return paths.home() / "export" / CURSOR_NAME


def load_cursor(path: Path) -> Cursor:
    try:
        data = json.loads(read_file(path))
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        file, offset = data.get("file", ""), data.get("offset", 0)
        if not isinstance(file, str) or type(offset) is not int or offset < 0:
            raise ValueError("file must be a name and offset a count of bytes")
    except FileNotFoundError:
        return Cursor()
    except (OSError, ValueError, RecursionError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc).split("\n")[0]
        raise ExportError(
            f"cannot read the export cursor {path}: {reason}",
            hint="fix or remove it (removing it exports everything again)",
        ) from None
    return Cursor(file, offset)


def save_cursor(path: Path, cursor: Cursor) -> None:
    paths.private_dir(path.parent)
    data = json.dumps({"file": cursor.file, "offset": cursor.offset}).encode()
    paths.write_atomic(path, data, mode=0o600, follow_links=False)


def _value(value: Any) -> Any:
    if isinstance(value, (str, bool, int, float)):
        return value[:MAX_ATTRIBUTE_CHARS] if isinstance(value, str) else value
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return [v[:MAX_ATTRIBUTE_CHARS] for v in value]
    if (
        isinstance(value, list)
        and value
        and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    ):
        return value
    return json.dumps(value, sort_keys=True, ensure_ascii=False)[:MAX_ATTRIBUTE_CHARS]


def attributes(record: dict[str, Any], file: str) -> dict[str, Any]:
    """The OTel attributes of one audit record (``None`` fields are left out)."""
    out: dict[str, Any] = {"ztmcp.audit.file": file}
    for key, value in record.items():
        if value is None or key == "ts":
            continue
        out[_CHAIN.get(key, key)] = _value(value)
    return out


def _nanos(ts: Any) -> int | None:
    if not isinstance(ts, str):
        return None
    try:
        return int(datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp() * 1e9)
    except ValueError:
        return None


def log_record(record: dict[str, Any], file: str) -> Any:
    from opentelemetry._logs import LogRecord
    from opentelemetry.sdk._logs import ReadableLogRecord
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.util.instrumentation import InstrumentationScope

    from ztmcp import __version__

    event = str(record.get("event", "record"))
    return ReadableLogRecord(
        LogRecord(
            timestamp=_nanos(record.get("ts")),
            body=event,
            event_name=event,
            attributes=attributes(record, file),
        ),
        resource=Resource.create({"service.name": "ztmcp", "service.version": __version__}),
        instrumentation_scope=InstrumentationScope("ztmcp.audit", __version__),
    )


class Exporter:
    """Exports what the audit directory holds past the cursor; ``run_once`` is one pass."""

    def __init__(
        self,
        endpoint: str,
        *,
        audit_dir: Path | None = None,
        cursor: Path | None = None,
        timeout: float = 5.0,
    ) -> None:
        from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter

        url = endpoint.rstrip("/")
        self.endpoint = url if url.endswith("/v1/logs") else url + "/v1/logs"
        self.audit_dir = audit_dir or paths.audit_dir()
        self.cursor_file = cursor or cursor_path()
        self._otlp = OTLPLogExporter(endpoint=self.endpoint, timeout=timeout)
        self._lock = threading.Lock()

    def _send(self, batch: list[Any]) -> None:
        from opentelemetry.sdk._logs.export import LogRecordExportResult

        if self._otlp.export(batch) is not LogRecordExportResult.SUCCESS:
            raise ExportError(
                f"the OTLP collector at {self.endpoint} did not accept the records",
                hint="they stay in the audit log; the export resumes from here next time",
            )

    def run_once(self) -> int:
        """Export every whole record past the cursor; the number sent. Raises ``ExportError``
        (with the cursor after the last accepted batch) when the collector fails."""
        with self._lock:
            cursor = load_cursor(self.cursor_file)
            sent = 0
            for path in session_files(self.audit_dir):
                if path.name < cursor.file:
                    continue
                start = cursor.offset if path.name == cursor.file else 0
                sent += self._file(path, start)
            return sent

    def _file(self, path: Path, start: int) -> int:
        sent = 0
        batch: list[Any] = []
        offset = start
        try:
            handle = open_file(path)  # a regular file: a FIFO would block the export for ever
        except FileNotFoundError:
            return 0
        except OSError as exc:
            raise ExportError(f"cannot read the audit log {path}: {exc.strerror}") from None
        with handle:
            handle.seek(start)
            for line in handle:
                if not line.endswith(b"\n"):
                    break  # a record being written: next time
                offset += len(line)
                try:
                    record = json.loads(line)
                except (ValueError, RecursionError):
                    record = {"event": "ztmcp.audit.unreadable"}  # verify says why
                batch.append(log_record(record if isinstance(record, dict) else {}, path.name))
                if len(batch) >= BATCH:
                    self._send(batch)
                    save_cursor(self.cursor_file, Cursor(path.name, offset))
                    sent, batch = sent + len(batch), []
            if batch:
                self._send(batch)
                sent += len(batch)
            save_cursor(self.cursor_file, Cursor(path.name, offset))
        return sent

    def shutdown(self) -> None:
        self._otlp.shutdown()  # type: ignore[no-untyped-call]


class Background:
    """An exporter on a daemon thread: a pass every ``interval`` seconds and one at ``stop``;
    a failure is retried next pass (the traffic never waits for it)."""

    def __init__(self, exporter: Exporter, interval: float = 2.0) -> None:
        self.exporter = exporter
        self.interval = interval
        self.failures = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._main, name="ztmcp-otlp", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _pass(self) -> None:
        try:
            self.exporter.run_once()
        except ZtmcpError:
            self.failures += 1

    def _main(self) -> None:
        while not self._stop.wait(self.interval):
            self._pass()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(30)
        self._pass()
        self.exporter.shutdown()
