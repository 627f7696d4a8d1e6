"""``ztmcp demo``: see ztmcp stop a poisoned tool, grant access just in time, catch secrets."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from ztmcp.cli.render import fail
from ztmcp.errors import ZtmcpError
from ztmcp.terminal import echo, secho

if TYPE_CHECKING:
    from ztmcp.demo import Report

_LOOK = {  # status -> (mark, label, colour)
    "passed": ("✔", "PASSED", typer.colors.GREEN),
    "flagged": ("!", "FLAGGED", typer.colors.YELLOW),
    "changed": ("✎", "CHANGED", typer.colors.CYAN),
    "stopped": ("■", "STOPPED", typer.colors.CYAN),
    "granted": ("⏱", "GRANTED", typer.colors.MAGENTA),
    "unknown": ("?", "UNKNOWN", typer.colors.RED),
}


def demo(
    as_json: Annotated[bool, typer.Option("--json", help="Print the full report as JSON.")] = False,
) -> None:
    """Run a scripted agent against a deliberately untrustworthy MCP server behind `ztmcp run`.

    The server ships with ztmcp (python -m ztmcp.demo_server): one honest tool, one poisoned.

    The agent also sends a fake private key, reads a fake AWS key and calls a non-MCP method.

    Every line of the report comes from what the agent received and from the audit log.

    The audit log stays in $ZTMCP_HOME: look at it again with `ztmcp audit show`.
    """
    from ztmcp.demo import run_demo

    def progress(text: str) -> None:
        secho(f"… {text}", err=True, dim=True)

    try:
        report: Report = run_demo(progress=(lambda _: None) if as_json else progress)
    except ZtmcpError as exc:
        fail(exc)
    if as_json:
        echo(report.to_json())
    else:
        _render(report)
    if not report.verify.get("ok"):
        raise typer.Exit(1)


def _render(report: Report) -> None:
    echo = typer.echo
    echo()
    secho("ztmcp demo: scripted agent → ztmcp run → untrustworthy demo server", bold=True)
    checks = ", ".join(report.checks) or "none"
    echo(f"  policy   {report.policy_file}")
    echo(
        f"           mode {report.mode}; checks in this session: {checks}"
        f" (this build has: {', '.join(report.available_checks)})"
    )
    echo()
    for step in report.steps:
        mark, label, colour = _LOOK.get(step.status, _LOOK["unknown"])
        if step.status == "passed" and step.risk:
            mark, colour = "⚠", typer.colors.YELLOW
        echo("  " + typer.style(f"{mark} {label:<8}", fg=colour, bold=True) + f" {step.label}")
        if step.risk:
            echo(typer.style(f"             risk: {step.risk}", dim=True))
        if step.by is not None:
            echo(
                f"             by {step.by.get('check')} [{step.by.get('rule')}]: "
                f"{step.by.get('reason')}"
            )
        if step.detail:
            who = "ztmcp said" if step.status == "granted" else "agent got"
            echo(f"             {who}: {step.detail}")
        if step.note:
            secho(f"             → passed: {step.note}", fg=typer.colors.YELLOW)
    echo()
    counts = report.summary
    risky = sum(1 for s in report.steps if s.status == "passed" and s.risk)
    line = (
        f"  {counts['passed']} passed ({risky} of them risky), {counts['stopped']} stopped, "
        f"{counts['changed']} changed, {counts['flagged']} flagged, "
        f"{sum(1 for s in report.steps if s.status == 'granted')} granted by you"
    )
    if counts.get("unknown"):
        line += f", {counts['unknown']} without an audit record"
    echo(line)
    if report.secrets_in_audit:
        secho(
            f"  WARNING: the audit log holds a fake secret verbatim: "
            f"{', '.join(report.secrets_in_audit)}",
            fg=typer.colors.RED,
            bold=True,
        )
    echo()
    verify = report.verify
    echo(f"  audit    {report.audit_log or 'not found'}")
    if verify.get("ok"):
        state = "session closed" if verify.get("closed") else "no session.end yet"
        secho(
            f"  verify   ok: {verify.get('records')} records, hash chain intact, {state}",
            fg=typer.colors.GREEN,
        )
    else:
        secho(f"  verify   FAILED: {verify.get('error')}", fg=typer.colors.RED, bold=True)
    echo("  next     ztmcp audit show --server demo     ztmcp audit verify")
    echo("           wrap your own servers: ztmcp run --name NAME -- CMD ARGS… (examples/clients/)")
    echo(typer.style(f"  took {report.elapsed_s:.1f} s; state in {report.ztmcp_home}", dim=True))


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
