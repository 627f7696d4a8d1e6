"""``ztmcp scan (MANIFEST.json | URL | -- CMD ARGS…)``: review a server's definitions, e.g. in CI.

Exit status: 0 when no finding reaches ``--fail-on``, 1 when some do, 2 on a usage error, a
missing or invalid manifest, or a server that cannot be listed.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any, Final, NoReturn

import typer

from ztmcp.cli.render import describe_exception, fail
from ztmcp.documents import read_file
from ztmcp.errors import ZtmcpError
from ztmcp.jsonrpc import loads_document
from ztmcp.terminal import echo

FORMATS: Final = ("text", "json", "sarif")
TIMEOUT: Final = 60.0


def _error(message: str) -> NoReturn:
    echo(f"ztmcp: error: {message}", err=True)
    raise typer.Exit(2)


def _is_manifest(args: list[str]) -> bool:
    """One argument naming a JSON file (or ending in .json) is a manifest; else a command."""
    if len(args) != 1:
        return False
    path = Path(args[0])
    if path.suffix.lower() == ".json":
        return True
    try:
        return path.is_file() and not os.access(path, os.X_OK)
    except OSError:  # a name too long for a path, say: not a file, so a command
        return False


async def fetch_manifest(target: str | list[str], timeout: float = TIMEOUT) -> dict[str, Any]:
    """Tools, prompts, resources, templates and instructions of a live server: a stdio
    command, or a Streamable HTTP URL (``ztmcp.cli.pin_cmd.server_target``)."""
    import anyio
    from mcp import Client, StdioServerParameters

    from ztmcp.manifest import all_pages

    server: Any
    if isinstance(target, str):
        server = target
    else:
        server = StdioServerParameters(command=target[0], args=target[1:])
    manifest: dict[str, Any] = {}
    with anyio.fail_after(timeout):
        async with Client(server, mode="auto", cache=None, read_timeout_seconds=timeout) as client:
            caps = client.server_capabilities
            if caps.tools is not None:
                manifest["tools"] = await all_pages(lambda c: client.list_tools(cursor=c), "tools")
            if caps.prompts is not None:
                manifest["prompts"] = await all_pages(
                    lambda c: client.list_prompts(cursor=c), "prompts"
                )
            if caps.resources is not None:
                manifest["resources"] = await all_pages(
                    lambda c: client.list_resources(cursor=c), "resources"
                )
                manifest["resourceTemplates"] = await all_pages(
                    lambda c: client.list_resource_templates(cursor=c), "resource_templates"
                )
            if client.instructions:
                manifest["instructions"] = client.instructions
    return manifest


def register(app: typer.Typer) -> None:
    """Add the ``scan`` command to ``app``."""

    @app.command(
        "scan",
        context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
        options_metavar="[OPTIONS] (MANIFEST.json | URL | -- CMD ARGS…)",
        help="Scan a manifest (MANIFEST.json) or a live server (URL, or -- CMD ARGS…) for "
        "poisoned "
        "definitions, hidden content and secrets.\n\n"
        "Exit 0: nothing at or above --fail-on; 1: findings at or above it; 2: usage "
        "error, missing or invalid manifest, or a server that could not be listed.",
    )
    def scan_command(
        ctx: typer.Context,
        fmt: Annotated[
            str, typer.Option("--format", metavar="text|json|sarif", help="Output format.")
        ] = "text",
        fail_on: Annotated[
            str,
            typer.Option(
                "--fail-on",
                metavar="SEVERITY",
                help="Exit 1 when a finding is at least this severe (low, medium, high, critical).",
            ),
        ] = "high",
    ) -> None:
        """Scan a manifest or a live server's listed definitions (see ``help`` above)."""
        from ztmcp import __version__
        from ztmcp.detectors.findings import parse_severity
        from ztmcp.scan import ManifestError, render_json, render_sarif, render_text, scan_manifest

        if fmt not in FORMATS:
            _error(f"--format must be one of {', '.join(FORMATS)}, got {fmt!r}")
        try:
            threshold = parse_severity(fail_on)
        except ValueError:
            _error(f"--fail-on must be low, medium, high or critical, got {fail_on!r}")
        args = list(ctx.args)
        if not args:
            _error(
                "give a manifest file, a server URL or a server command: ztmcp scan "
                "MANIFEST.json | ztmcp scan URL | ztmcp scan -- CMD ARGS…"
            )
        source: str | None = None
        text: str | None = None
        from ztmcp.cli.pin_cmd import server_target

        target = server_target(args)
        if isinstance(target, list) and _is_manifest(args):
            path = Path(args[0])
            try:
                text = read_file(path).decode("utf-8")
            except OSError as exc:
                _error(f"cannot read manifest {path}: {exc.strerror or exc}")
            except UnicodeDecodeError:
                _error(f"manifest {path} is not UTF-8 text")
            try:
                manifest: Any = loads_document(text)
            except json.JSONDecodeError as exc:
                _error(f"manifest {path} is not valid JSON: {exc.msg} at line {exc.lineno}")
            source = path.as_posix()
        else:
            import anyio

            shown = target if isinstance(target, str) else " ".join(target)
            try:
                manifest = anyio.run(fetch_manifest, target)
            except Exception as exc:  # the server's failure, whatever it is, is one line
                _error(f"could not list the definitions of {shown}: {describe_exception(exc)}")
            source = target if isinstance(target, str) else None
        try:
            report = scan_manifest(manifest, source)
        except ManifestError as exc:
            _error(f"invalid manifest{f' {source}' if source else ''}: {exc}")
        except ZtmcpError as exc:  # the detectors cannot run (a damaged learned.bin): no verdict
            fail(exc)
        if fmt == "json":
            echo(render_json(report))
        elif fmt == "sarif":
            echo(render_sarif(report, text, __version__))
        else:
            echo(render_text(report, threshold))
        if report.at_least(threshold):
            raise typer.Exit(1)
