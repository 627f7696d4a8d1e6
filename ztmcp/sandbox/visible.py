"""Egress records for people: one line for ``ztmcp audit show``, a row for the TUI's traffic
view, and the per-server counts ``ztmcp report`` prints.

The gate writes ``egress`` (one per attempt: verdict ``allow``, ``deny`` or ``learn``) and
``egress.end`` (an allowed attempt closed: bytes each way); ``sandbox.start`` says how the
sandbox was set up. Every value shown comes from the record and is cut to a bounded width.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

EVENTS: Final = frozenset({"egress", "egress.end"})
VERDICTS: Final = ("allow", "learn", "flag", "deny")


def _text(value: Any, width: int) -> str:
    return "".join(c if c.isprintable() else "?" for c in str(value))[:width]


def destination(record: Mapping[str, Any]) -> str:
    host = _text(record.get("server.address") or "?", 80)
    port = record.get("server.port")
    if ":" in host:
        host = f"[{host}]"
    return f"{host}:{port}" if isinstance(port, int) else host


def detail(record: Mapping[str, Any]) -> str:
    """Why and what: the rule or the reason, the method and path, the TLS server name."""
    if record.get("event") == "egress.end":
        sent, received = record.get("egress.bytes_sent"), record.get("egress.bytes_received")
        status = record.get("http.response.status_code")
        bits = [f"{sent} B out, {received} B in"]
        if status is not None:
            bits.insert(0, f"HTTP {status}")
        if record.get("error"):
            bits.append(f"error {_text(record['error'], 60)}")
        return ", ".join(bits)
    bits = []
    if record.get("egress.syscall"):  # a direct socket, refused by the seccomp audit
        technique = _text(record.get("egress.technique") or "socket", 10)
        bits.append(f"direct {technique} ({_text(record['egress.syscall'], 12)})")
        if record.get("egress.aggregated"):  # the audit-flood bound: repeats in one record
            bits.append(
                f"x{_text(record.get('egress.count'), 10)} in {record.get('egress.window_s')} s"
            )
    method, path = record.get("http.request.method"), record.get("url.path")
    if method:
        bits.append(_text(method, 10) + (f" {_text(path, 60)}" if path else ""))
    if record.get("tls.client.server_name"):
        bits.append(f"sni {_text(record['tls.client.server_name'], 60)}")
    if record.get("egress.findings"):
        bits.append("findings " + _text(",".join(map(str, record["egress.findings"])), 80))
    if record.get("egress.reason"):
        bits.append(_text(record["egress.reason"], 60))
    elif record.get("egress.rule"):
        bits.append(f"rule {_text(record['egress.rule'], 60)}")
    return ", ".join(bits)


def verdict(record: Mapping[str, Any]) -> str:
    if record.get("event") == "egress.end":
        return "closed"
    return _text(record.get("egress.verdict") or "?", 8)


def line(record: Mapping[str, Any], ts: str) -> str:
    """``ztmcp audit show``: when, server, egress, host:port, verdict, detail."""
    server = _text(record.get("server") or "", 40)
    where = destination(record)
    return f"{ts}  {server:<16} {'egress':<14} {where:<28} {verdict(record):<7} {detail(record)}"


def row(record: Mapping[str, Any], when: str) -> tuple[str, ...]:
    """The TUI traffic view's cells: time, server, ``⇢ egress``, host:port, µs, verdict."""
    server = _text(record.get("server") or "", 24)
    outcome = verdict(record)
    if outcome == "deny":
        outcome = "denied"  # the traffic view colours denials red
    why = detail(record)
    return (when, server, "⇢ egress", destination(record)[:40], "", f"{outcome} {why}"[:48])


@dataclass(frozen=True, slots=True)
class EgressCounts:
    """Egress attempts per server and verdict, over a window."""

    by_server: Mapping[str, Mapping[str, int]] = field(default_factory=dict)

    def blocked(self, server: str) -> int:
        return self.by_server.get(server, {}).get("deny", 0)

    def as_dict(self) -> dict[str, dict[str, int]]:
        return {
            server: {v: counts.get(v, 0) for v in VERDICTS}
            for server, counts in sorted(self.by_server.items())
        }

    def lines(self) -> list[str]:
        """``egress  NAME: N blocked, N allowed (N learned)``, one per server."""
        out = []
        for server, counts in sorted(self.by_server.items()):
            learned = f", {counts.get('learn', 0)} learned" if counts.get("learn") else ""
            out.append(
                f"egress {_text(server, 40)}: {counts.get('deny', 0)} blocked, "
                f"{counts.get('allow', 0)} allowed{learned}"
            )
        return out


def count(
    records: Iterable[Mapping[str, Any]], start: float, end: float, server: str | None = None
) -> EgressCounts:
    """Egress attempts (``egress`` records) in [start, end], per server and verdict."""
    from ztmcp.report import parse_ts

    counts: dict[str, Counter[str]] = {}
    for record in records:
        if record.get("event") != "egress":
            continue
        where = record.get("server")
        if not isinstance(where, str) or (server is not None and where != server):
            continue
        ts = parse_ts(record.get("ts"))
        if ts is None or not start <= ts <= end:
            continue
        times = record.get("egress.count")  # an aggregated record stands for that many
        weight = times if isinstance(times, int) and times > 0 else 1
        counts.setdefault(where, Counter())[str(record.get("egress.verdict"))] += weight
    return EgressCounts({k: dict(v) for k, v in counts.items()})
