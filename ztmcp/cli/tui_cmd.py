"""``ztmcp tui``: the live view and approval queue (Textual is imported only here, on use)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from ztmcp.cli.render import fail
from ztmcp.durations import parse_duration
from ztmcp.errors import UsageError, ZtmcpError


def tui(
    since: Annotated[
        str,
        typer.Option(
            "--since",
            metavar="DURATION",
            help="Show traffic newer than this (30m, 1h, 2d); `all` for every record.",
        ),
    ] = "1h",
    lock: Annotated[
        Path | None,
        typer.Option("--lock", metavar="FILE", help="The pins to show (default: ./ztmcp.lock)."),
    ] = None,
    grant_times: Annotated[
        str,
        typer.Option(
            "--grant-times",
            metavar="D1,D2,D3",
            help="What the keys 1, 2 and 3 grant.",
        ),
    ] = "5m,15m,1h",
    interval: Annotated[
        float, typer.Option(help="Seconds between polls of the logs and the state.", min=0.1)
    ] = 0.5,
    desktop: Annotated[
        bool,
        typer.Option(
            "--notify/--no-notify",
            help="Also show each held call as a desktop notification (notify-send).",
        ),
    ] = True,
    revoke_on_anomaly: Annotated[
        bool,
        typer.Option(
            "--revoke-on-anomaly",
            help="When an anomaly is judged live, revoke the live grants on its agent's servers.",
        ),
    ] = False,
) -> None:
    """Watch live MCP traffic and answer held calls: grant for 5 m / 15 m / 1 h, or deny.

    While it runs, proxies hold a call that needs a grant and queue it under Approvals.

    Without it, such calls are refused at once (a person must approve: here, or with
    `ztmcp grant` at a terminal).

    Keys (Approvals tab): o allows the selected held call once, 1 2 3 grant its tool for a
    while, d denies it; r revokes a grant, ? shows every key.
    """
    try:
        cutoff = None if since == "all" else time.time() - parse_duration(since)
        times = tuple(parse_duration(part) for part in grant_times.split(","))
        if len(times) != 3:
            raise UsageError(
                f"--grant-times needs three durations, got {grant_times!r}",
                hint="for example: --grant-times 5m,15m,1h",
            )
    except ZtmcpError as exc:
        fail(exc)
    if lock is not None and not lock.is_file():
        fail(UsageError(f"no lock file {lock}", hint="pin with `ztmcp pin`, or omit --lock"))
    from ztmcp.tui.app import make_app

    make_app(
        since=cutoff,
        lock_path=lock,
        interval=interval,
        grant_times=(times[0], times[1], times[2]),
        desktop=desktop,
        revoke_on_anomaly=revoke_on_anomaly,
    ).run()


def register(app: typer.Typer) -> None:
    app.command("tui")(tui)
