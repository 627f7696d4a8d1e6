"""``ztmcp eval FILE.jsonl…``: detector TP/FP/TN/FN, TPR and FPR on labelled corpora."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from ztmcp.errors import ZtmcpError
from ztmcp.terminal import echo


def register(app: typer.Typer) -> None:
    """Add the ``eval`` command to ``app``."""

    @app.command("eval")
    def eval_command(
        files: Annotated[list[Path], typer.Argument(help="JSONL corpora (see eval/README.md).")],
        as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False,
        errors: Annotated[
            int, typer.Option("--errors", metavar="N", help="List up to N misclassified samples.")
        ] = 0,
        bound: Annotated[
            str | None,
            typer.Option(
                "--bound",
                metavar="GRAIN",
                help="Trace files: the best any flow-only rule can reach, telling calls apart "
                "by 'fine' (all the run records) or 'classes' (provenance classes).",
            ),
        ] = None,
        without_user: Annotated[
            bool,
            typer.Option(
                "--without-user",
                help="Trace files: do not hear the user's requests, as a live run without "
                "ztmcp watch.",
            ),
        ] = False,
    ) -> None:
        """Measure the detectors: per kind TP/FP/TN/FN, TPR, FPR; recall per attack and source."""
        from ztmcp.cli.render import fail
        from ztmcp.evaluation import evaluate, render_text
        from ztmcp.evaluation_traces import evaluate_traces, is_trace_file, render_traces

        if files and all(is_trace_file(f) for f in files):  # agent-run traces (behaviour.md)
            if bound is not None:
                _bound(files, bound, as_json, errors, not without_user)
                return
            try:
                traces = evaluate_traces(files, use_user=not without_user)
            except ZtmcpError as exc:
                fail(exc)
            if as_json:
                echo(json.dumps(traces.as_dict(), indent=2, sort_keys=True))
            else:
                echo(render_traces(traces, errors=errors))
            return
        try:
            report = evaluate(files)
        except ZtmcpError as exc:
            fail(exc)
        if as_json:
            echo(json.dumps(report.as_dict(), indent=2, sort_keys=True))
        else:
            echo(render_text(report, errors=errors))


def _bound(files: list[Path], grain: str, as_json: bool, pairs: int, use_user: bool) -> None:
    from ztmcp.cli.render import fail
    from ztmcp.errors import UsageError
    from ztmcp.evaluation_bound import Grain, bound, render_bound

    try:
        try:
            chosen = Grain(grain)
        except ValueError:
            raise UsageError(
                f"--bound {grain!r} is no grain", hint="use --bound fine or --bound classes"
            ) from None
        bounds = bound(files, chosen, use_user)
    except ZtmcpError as exc:
        fail(exc)
    if as_json:
        echo(json.dumps({k: v.as_dict() for k, v in bounds.items()}, indent=2, sort_keys=True))
    else:
        echo(render_bound(bounds, pairs=pairs, grain=chosen))
