"""``ztmcp baseline [--agent A] [--server S]``: what the behaviour layer learned from the audit
history, per (agent, server, tool), and the anomalies in its most recent ``--recent`` seconds
judged against the history before them (docs/behaviour.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from ztmcp.terminal import echo


def register(app: typer.Typer) -> None:
    """Add the ``baseline`` command to ``app``."""

    @app.command("baseline")
    def baseline_command(
        agent: Annotated[str | None, typer.Option("--agent", help="Only this agent.")] = None,
        server: Annotated[str | None, typer.Option("--server", help="Only this server.")] = None,
        recent: Annotated[
            float,
            typer.Option(
                "--recent",
                metavar="SECONDS",
                help="Judge the last SECONDS of the history against what came before.",
            ),
        ] = 3600.0,
        directory: Annotated[
            Path | None, typer.Option("--dir", help="Audit directory (default: the user's).")
        ] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    ) -> None:
        """Show the learned baselines (call rate, sizes, hours) and recent anomalies."""
        from ztmcp.state import paths
        from ztmcp.state.audit import read_records, session_files
        from ztmcp.state.baselines import Detector, calls, learn
        from ztmcp.terminal import safe

        records = [
            r
            for r in read_records(session_files(directory or paths.audit_dir()))
            if (server is None or r.get("server") == server)
            and (agent is None or (r.get("agent") or r.get("client") or "unknown") == agent)
        ]
        found = list(calls(records))
        end = max((c.at for c in found), default=0.0)
        history = learn(r for r in records if _ts_before(r, end - recent))
        detector = Detector(history)
        anomalies = [a for c in found if c.at > end - recent for a in detector.observe(c)]
        everything = learn(records)
        if as_json:
            echo(
                json.dumps(
                    {
                        "baselines": [
                            {"agent": k[0], "server": k[1], "tool": k[2], **b.as_dict()}
                            for k, b in sorted(everything.items())
                        ],
                        "anomalies": [
                            {
                                "kind": a.kind,
                                "agent": a.key[0],
                                "server": a.key[1],
                                "tool": a.key[2],
                                "at": a.at,
                                "explanation": a.explanation,
                            }
                            for a in anomalies
                        ],
                    },
                    indent=2,
                )
            )
            return
        if not everything:
            echo(
                "no tools/call records in the audit log" + (" matching" if agent or server else "")
            )
            return
        echo(
            f"{'agent':<24} {'server':<16} {'tool':<24} {'calls':>6} {'max/60s':>7} "
            f"{'max args':>9} {'max result':>10}  hours (UTC)"
        )
        for (a, s, t), b in sorted(everything.items()):
            hours = ",".join(f"{h:02d}" for h in sorted(b.hours))
            echo(
                safe(
                    f"{a[:24]:<24} {s[:16]:<16} {t[:24]:<24} {b.calls:>6} {b.max_rate:>7} "
                    f"{b.max_args:>9} {b.max_result:>10}  {hours}"
                )
            )
        echo(f"\nanomalies in the last {recent:.0f} s: {len(anomalies) or 'none'}")
        for anomaly in anomalies:
            echo(
                safe(
                    f"  {anomaly.kind:<9} {anomaly.key[0]} {anomaly.key[1]}: {anomaly.explanation}"
                )
            )


def _ts_before(record: dict[str, object], cutoff: float) -> bool:
    from ztmcp.state.baselines import _ts

    at = _ts(record)
    return at is not None and at <= cutoff
