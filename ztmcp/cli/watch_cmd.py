"""``ztmcp watch``: run an agent with its LLM API calls recorded (see docs/watch.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ztmcp import names
from ztmcp.cli.render import fail
from ztmcp.cli.values import option
from ztmcp.errors import UsageError, ZtmcpError


def watch(
    ctx: typer.Context,
    name: Annotated[
        str | None, option(names.AGENT, "--name", metavar="AGENT", help="The agent's name.")
    ] = None,
    policy: Annotated[
        Path | None,
        typer.Option("--policy", metavar="FILE", help="A TOML file with \\[watch] and \\[export]."),
    ] = None,
    resolve: Annotated[
        list[str] | None,
        typer.Option(
            "--resolve",
            metavar="HOST:PORT:ADDRESS[:PORT]",
            help="Connect to ADDRESS when the agent asks for HOST:PORT (like curl's).",
        ),
    ] = None,
    upstream_ca: Annotated[
        Path | None,
        typer.Option("--upstream-ca", metavar="FILE", help="Trust only this CA upstream (PEM)."),
    ] = None,
) -> None:
    """Run CMD with its HTTP(S) traffic through ztmcp: every LLM API call audited.

    ztmcp watch [--name AGENT] [--policy FILE] [--resolve H:P:A] [--upstream-ca F] -- CMD…
    """
    from ztmcp.watch import launcher
    from ztmcp.watch import policy as watch_policy

    try:
        if not ctx.args:
            raise UsageError("no agent command given", hint="ztmcp watch -- CMD ARGS…")
        if upstream_ca is not None and not upstream_ca.is_file():
            raise UsageError(f"--upstream-ca {upstream_ca}: no such file", hint="give a PEM file")
        options = launcher.Options(
            command=list(ctx.args),
            policy=watch_policy.load(policy),
            name=name,
            resolve=tuple(launcher.parse_resolve(r) for r in resolve or ()),
            upstream_ca=upstream_ca,
        )
        status = launcher.run(options)
    except ZtmcpError as exc:
        fail(exc)
    raise typer.Exit(status)


def register(app: typer.Typer) -> None:
    app.command(
        "watch", context_settings={"allow_extra_args": True, "ignore_unknown_options": True}
    )(watch)
