"""One change to how typer's help renderer loads, which makes ``ztmcp --help`` cheaper.

``typer.rich_utils`` (imported when typer draws help or an error) imports ``rich.markdown``
(markdown-it, ~70 modules) for ``rich_markup_mode="markdown"`` and ``rich.traceback`` (pygments
and attrs, through ``rich.syntax`` and ``rich.pretty``) for pretty exceptions. ztmcp uses
neither: its markup mode is ``"rich"`` and pretty exceptions are off (``ztmcp.cli.app``). Yet
the two imports are about half of what ``ztmcp --help`` loads.

``deferred_help_imports`` imports ``typer.rich_utils`` with the two names it takes from those
modules (``Markdown``, ``Traceback``) standing in for the real classes: calling one, reading an
attribute or an ``isinstance`` check loads the real module then and forwards to the real class,
so whatever typer does with them it does as before. The stand-in modules are in
``sys.modules`` only while ``typer.rich_utils`` imports: any later ``import rich.markdown``
(the TUI's) loads the real one. It is applied only on the typer versions in ``TYPER.tested``,
only when ``typer.rich_utils`` is not loaded yet, and not at all when one of the two modules is
already loaded (then nothing is saved); the help text is the same byte for byte
(``tests/compat/test_typer.py``).

Since 0.29 typer ships its own copy of click as the private ``typer._click``. Two things ztmcp
needs are only there: ``completing`` (whether typer is reading a command line for shell
completion, which a value parser is not told) and ``ClickContext`` (the context type a
``TyperGroup.invoke`` override takes; for type checking only).
"""

from __future__ import annotations

import importlib
import logging
import sys
import types
from typing import TYPE_CHECKING, Any, Final

from ztmcp.compat import Support

if TYPE_CHECKING:
    from typer._click import Context as ClickContext  # what TyperGroup.invoke is given

__all__ = ["TYPER", "ClickContext", "completing", "deferred_help_imports", "stand_in"]

logger = logging.getLogger("ztmcp.cli")

TYPER: Final = Support("typer", ("0.29.2",))
# (module, name): what typer.rich_utils imports from modules ztmcp's help never needs.
DEFERRED: Final = (("rich.markdown", "Markdown"), ("rich.traceback", "Traceback"))


class _StandIn(type):
    """The metaclass of a stand-in: every use goes to the real class, loaded on first use."""

    _module: str

    def real(cls) -> Any:
        return getattr(importlib.import_module(cls._module), cls.__name__)

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        return cls.real()(*args, **kwargs)

    def __getattr__(cls, name: str) -> Any:
        return getattr(cls.real(), name)

    def __instancecheck__(cls, obj: Any) -> bool:
        return isinstance(obj, cls.real())

    def __subclasscheck__(cls, sub: type) -> bool:
        return issubclass(sub, cls.real())


def stand_in(module: str, name: str) -> type:
    """A class that stands in for ``module.name`` until it is used."""
    return _StandIn(name, (), {"_module": module, "__module__": module})


def deferred_help_imports() -> bool:
    """Import ``typer.rich_utils`` with ``rich.markdown`` and ``rich.traceback`` deferred;
    True when it did (see the module's docstring for when it does not)."""
    if "typer.rich_utils" in sys.modules or any(m in sys.modules for m, _ in DEFERRED):
        return False
    import typer

    # typer's own version attribute: reading the installed metadata (``TYPER.active()``) would
    # import importlib.metadata, which costs about what this saves.
    if typer.__version__ not in TYPER.tested:
        logger.debug("typer %s is untested: its help renderer loads as it is", typer.__version__)
        return False
    modules = {}
    for module, name in DEFERRED:
        placeholder = types.ModuleType(module)
        setattr(placeholder, name, stand_in(module, name))
        modules[module] = placeholder
    sys.modules.update(modules)
    try:
        importlib.import_module("typer.rich_utils")
    except ImportError:  # it wants more from them than the names above: load it as it is
        sys.modules.pop("typer.rich_utils", None)
        logger.debug("typer.rich_utils imports more than %s: loaded as it is", DEFERRED)
        return False
    finally:
        for module, placeholder in modules.items():
            if sys.modules.get(module) is placeholder:
                del sys.modules[module]
    return True


def completing() -> bool:
    """Whether typer is reading this command line for shell completion (click's resilient
    parsing), from the context typer pushed; False on a typer without ``typer._click`` (a
    value parser's refusal is then printed while completing too)."""
    try:
        from typer._click.globals import get_current_context
    except ImportError:
        return False
    ctx = get_current_context(silent=True)
    return ctx is not None and bool(ctx.resilient_parsing)
