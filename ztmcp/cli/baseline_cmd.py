"""``ztmcp baseline [--agent A] [--server S]``: what the behaviour layer learned from the audit
history, per (agent, server, tool), and the anomalies in its most recent ``--recent`` seconds
judged against the history before them (docs/behaviour.md)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ztmcp import names
from ztmcp.cli.values import option
from ztmcp.terminal import echo

if TYPE_CHECKING:
    from ztmcp.state.baselines import Baseline, Key


def register(app: typer.Typer) -> None:
    """Add the ``baseline`` command to ``app``."""

    @app.command("baseline")
    def baseline_command(
        agent: Annotated[
            str | None, option(names.AGENT, "--agent", help="Only this agent.")
        ] = None,
        server: Annotated[
            str | None, option(names.SERVER, "--server", help="Only this server.")
        ] = None,
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
        save: Annotated[
            bool,
            typer.Option(
                "--save", help="Save what was learned in state.db for the relay's anomaly judge."
            ),
        ] = False,
    ) -> None:
        """Show the learned baselines (rate, sizes, hours, egress hosts) and recent anomalies."""
        from ztmcp.state import paths
        from ztmcp.state.audit import read_records, session_files
        from ztmcp.state.baselines import judge, last_activity, learn, timed
        from ztmcp.terminal import safe

        stamped = timed(read_records(session_files(directory or paths.audit_dir())))
        latest = last_activity(stamped)
        detector, found = judge(stamped, latest - recent)
        learned = learn(r for _, r in stamped)
        if save:
            _save(learned.tools, latest, as_json)

        def wanted(a: str, s: str) -> bool:
            return (agent is None or a == agent) and (server is None or s == server)

        tools = {k: b for k, b in learned.tools.items() if wanted(k[0], k[1])}
        egress = {k: h for k, h in learned.egress.items() if wanted(*k) and h.hosts}
        anomalies = [a for a in found if wanted(a.key[0], a.key[1])]
        t = detector.t
        if as_json:
            echo(
                json.dumps(
                    {
                        "baselines": [
                            {"agent": k[0], "server": k[1], "tool": k[2], **b.as_dict()}
                            for k, b in sorted(tools.items())
                        ],
                        "egress": [
                            {"agent": k[0], "server": k[1], **h.as_dict(t)}
                            for k, h in sorted(egress.items())
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
        if not tools and not egress:
            echo(
                "no tools/call records in the audit log" + (" matching" if agent or server else "")
            )
            return
        echo(
            f"{'agent':<24} {'server':<16} {'tool':<24} {'calls':>6} {'max/60s':>7} "
            f"{'max args':>9} {'max result':>10}  {'hours (UTC)':<20} result shapes"
        )
        for (a, s, tool), b in sorted(tools.items()):
            hours = _hours(b.hours)
            echo(
                safe(
                    f"{a[:24]:<24} {s[:16]:<16} {tool[:24]:<24} {b.calls:>6} {b.max_rate:>7} "
                    f"{b.max_args:>9} {b.max_result:>10}  {hours:<20} {b.usual_shapes()}"
                )
            )
        if egress:
            echo("\negress hosts (allowed/refused attempts):")
        for (a, s), h in sorted(egress.items()):
            days = h.span() / 86400
            echo(safe(f"  {a} {s}: {h.calls} calls over {days:.1f} days; {h.status(t)}"))
            for host, (allowed, refused) in sorted(h.hosts.items(), key=lambda i: -sum(i[1])):
                echo(safe(f"    {host:<40} {allowed:>6}/{refused:<6}"))
        echo(f"\nanomalies in the last {recent:.0f} s: {len(anomalies) or 'none'}")
        for anomaly in anomalies:
            echo(
                safe(
                    f"  {anomaly.kind:<9} {anomaly.key[0]} {anomaly.key[1]}: {anomaly.explanation}"
                )
            )


def _save(tools: Mapping[Key, Baseline], learned_at: float, quiet: bool) -> None:
    """Save every baseline (not only the filtered ones): the relay judges them all."""
    import time

    from ztmcp.cli.render import fail
    from ztmcp.state.db import StateError
    from ztmcp.state.saved_baselines import BaselineStore

    try:
        with BaselineStore() as store:
            saved = store.save(tools, learned_at, time.time())
    except StateError as exc:  # a damaged or locked state.db: one line, never a traceback
        fail(exc)
    if not quiet:
        echo(f"saved {saved} baseline(s) in state.db for the relay's anomaly judge")


def _hours(hours: set[int]) -> str:
    """``08-17`` for a run of hours, ``03,08-17`` with gaps."""
    runs: list[list[int]] = []
    for hour in sorted(hours):
        if runs and hour == runs[-1][-1] + 1:
            runs[-1].append(hour)
        else:
            runs.append([hour])
    return ",".join(f"{r[0]:02d}-{r[-1]:02d}" if len(r) > 1 else f"{r[0]:02d}" for r in runs)
