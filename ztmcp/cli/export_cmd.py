"""``ztmcp export``: send the audit log to an OpenTelemetry collector (OTLP/HTTP logs)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ztmcp import names
from ztmcp.cli.render import fail
from ztmcp.cli.values import option
from ztmcp.errors import UsageError, ZtmcpError
from ztmcp.terminal import echo


def export(
    endpoint: Annotated[
        str | None,
        option(
            names.URL, "--endpoint", metavar="URL", help="The collector, e.g. http://host:4318."
        ),
    ] = None,
    policy: Annotated[
        Path | None,
        typer.Option("--policy", metavar="FILE", help="A TOML file with \\[export] otlp_endpoint."),
    ] = None,
) -> None:
    """Export every audit record past the cursor as an OTel log record; resumes after a failure."""
    from ztmcp.export.otlp import Exporter
    from ztmcp.watch import policy as watch_policy

    try:
        url = endpoint or watch_policy.load(policy).otlp_endpoint
        if not url:
            raise UsageError("no OTLP endpoint", hint="--endpoint URL or [export] otlp_endpoint")
        exporter = Exporter(url)
        try:
            sent = exporter.run_once()
        finally:
            exporter.shutdown()
    except ZtmcpError as exc:
        fail(exc)
    echo(f"exported {sent} audit records to {exporter.endpoint}")


def register(app: typer.Typer) -> None:
    app.command("export")(export)
