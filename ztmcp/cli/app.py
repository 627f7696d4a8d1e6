"""The typer application: every command but the fast-path ``run`` is defined or registered here."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperGroup

from ztmcp import __version__
from ztmcp.cli import (
    audit_cmd,
    baseline_cmd,
    demo_cmd,
    doctor_cmd,
    eval_cmd,
    export_cmd,
    grant_cmd,
    pin_cmd,
    proxy_cmd,
    report_cmd,
    scan_cmd,
    secret_cmd,
    sign_cmd,
    trust_cmd,
    tui_cmd,
    watch_cmd,
    wrap_cmd,
)
from ztmcp.cli.render import fail
from ztmcp.errors import UsageError, ZtmcpError
from ztmcp.terminal import echo

if TYPE_CHECKING:
    from ztmcp.compat.typer import ClickContext


class _Commands(TyperGroup):
    """The root command group: the one boundary every command's body runs inside. An error
    no command caught (a ``ZtmcpError``, or an ``OSError`` such as a path argument too long
    for the file system, which ``Path.is_file`` raises) is ztmcp's one error line, exit 2,
    never a traceback. A closed stdout (``ztmcp audit show | head``) stays click's."""

    def invoke(self, ctx: ClickContext) -> Any:
        try:
            return super().invoke(ctx)
        except ZtmcpError as exc:
            fail(exc)
        except BrokenPipeError:
            raise
        except OSError as exc:
            name = "" if exc.filename is None else f"{str(exc.filename)[:200]}: "
            fail(UsageError(f"{name}{exc.strerror or type(exc).__name__}"))


app = typer.Typer(
    name="ztmcp",
    cls=_Commands,
    help=(
        "Zero trust for MCP: signed and pinned tool manifests, a fail-closed interceptor "
        "between your agent and its MCP servers, and a hash-chained audit log.\n\n"
        "Start with `ztmcp demo`, then put `ztmcp run -- CMD…` in front of a server."
    ),
    no_args_is_help=True,
    add_completion=True,  # --install-completion / --show-completion for bash, zsh, fish
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _flags_without_a_type() -> None:
    """A flag takes no value: show none in --help (this typer prints ``<bool>`` for it)."""
    from typer.core import TyperOption

    shown = TyperOption.display_type_rich
    if getattr(shown, "ztmcp", False):
        return

    def display_type_rich(self: TyperOption, ctx: typer.Context) -> str | None:
        return None if self.is_flag or self.count else shown(self, ctx)

    display_type_rich.ztmcp = True  # type: ignore[attr-defined]
    TyperOption.display_type_rich = display_type_rich  # type: ignore[method-assign,assignment]


_flags_without_a_type()


def _version(value: bool) -> None:
    if value:
        echo(f"ztmcp {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    pass


@app.command(
    "run",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    add_help_option=False,
)
def _run(ctx: typer.Context) -> None:
    """Run a stdio MCP server behind ztmcp's checks (see: ztmcp run --help).

    ztmcp run [--policy FILE] [--name NAME] [--monitor] -- CMD ARGS…
    """
    from ztmcp.cli.run_cmd import main as run_main

    raise typer.Exit(run_main(list(ctx.args)))


audit_cmd.register(app)
baseline_cmd.register(app)
demo_cmd.register(app)

eval_cmd.register(app)
scan_cmd.register(app)
pin_cmd.register(app)
sign_cmd.register(app)
grant_cmd.register(app)
report_cmd.register(app)
secret_cmd.register(app)
proxy_cmd.register(app)
trust_cmd.register(app)
tui_cmd.register(app)
wrap_cmd.register(app)
doctor_cmd.register(app)
watch_cmd.register(app)
export_cmd.register(app)
