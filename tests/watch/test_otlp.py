"""OTLP/HTTP export received by a real receiver decoding the real protobuf, across a restart."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
)

from ztmcp.errors import ZtmcpError
from ztmcp.export.otlp import Exporter
from ztmcp.state import paths
from ztmcp.state.audit import AuditLog


class Receiver:
    """An OTLP/HTTP logs endpoint on 127.0.0.1: every log record's attributes, decoded."""

    def __init__(self, port: int = 0) -> None:
        self.records: list[dict[str, Any]] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                request = ExportLogsServiceRequest()
                request.ParseFromString(body)
                for resource in request.resource_logs:
                    for scope in resource.scope_logs:
                        for log in scope.log_records:
                            attrs = {a.key: _any(a.value) for a in log.attributes}
                            owner.records.append(
                                {"event_name": log.event_name, "time": log.time_unix_nano, **attrs}
                            )
                data = ExportLogsServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.port = int(self.server.server_address[1])
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _any(value: Any) -> Any:
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return [_any(v) for v in value.array_value.values]
    return getattr(value, kind) if kind else None


def _write(log: AuditLog, n: int, start: int) -> None:
    for i in range(start, start + n):
        log.append(
            {
                "event": "llm.call",
                "gen_ai.provider.name": "openai",
                "gen_ai.request.model": f"m{i}",
                "gen_ai.usage.input_tokens": i,
                "gen_ai.response.tool_calls": [{"id": "c", "name": "t"}],
                "ztmcp.findings": ["secret.github"],
            }
        )


def test_every_record_exported_with_its_chain_position_across_a_restart() -> None:
    audit = paths.audit_dir()
    log = AuditLog.create(audit, "watch-bot")
    _write(log, 5, 0)
    receiver = Receiver()
    port = receiver.port
    exporter = Exporter(f"http://127.0.0.1:{port}", timeout=1.0)
    assert exporter.run_once() == 5
    receiver.stop()  # the collector goes away: records keep coming, the export fails
    _write(log, 4, 5)
    with pytest.raises(ZtmcpError):
        exporter.run_once()
    receiver = Receiver(port)  # back: the export resumes where it stopped
    _write(log, 2, 9)
    log.close()
    assert exporter.run_once() == 7  # 6 llm.call + session.end
    receiver.stop()
    exporter.shutdown()
    got = receiver.records
    assert [r["ztmcp.audit.seq"] for r in got] == list(range(5, 12))
    files = sorted(audit.glob("*.jsonl"))
    lines = files[0].read_text().splitlines()
    import json

    written = [json.loads(line) for line in lines]
    for record, sent in zip(written[5:], got, strict=True):
        assert sent["ztmcp.audit.mac"] == record["mac"]
        assert sent["ztmcp.audit.prev"] == record["prev"]
        assert sent["event_name"] == record["event"]
        assert sent["time"] > 0
    llm = got[0]
    assert llm["gen_ai.provider.name"] == "openai" and llm["gen_ai.usage.input_tokens"] == 5
    assert llm["ztmcp.findings"] == ["secret.github"]
    assert json.loads(llm["gen_ai.response.tool_calls"]) == [{"id": "c", "name": "t"}]


def test_nothing_new_nothing_sent(tmp_path: Path) -> None:
    receiver = Receiver()
    exporter = Exporter(f"http://127.0.0.1:{receiver.port}", audit_dir=tmp_path / "none")
    assert exporter.run_once() == 0
    receiver.stop()
    exporter.shutdown()
