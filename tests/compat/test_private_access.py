"""No module of ztmcp outside ``ztmcp/compat/`` reads a private attribute of mitmproxy's,
sigstore's or typer's objects (issue 18): each such use lives in ``ztmcp/compat/<library>.py``,
behind a version check.

The rule, checked on the syntax tree of every module of ``ztmcp/`` outside ``ztmcp/compat/``:

1. An attribute ``X._name`` (one leading underscore, not a dunder) on anything but ``self`` or
   ``cls`` must be a private name that ztmcp itself defines (a function, class, class or module
   variable, ``self._name = …``, a slot) and that none of the libraries defines anywhere in its
   source: ztmcp's own private helpers pass, a library's private attribute does not, whatever
   object it is reached through. The same for ``getattr``/``hasattr``/``setattr``/``delattr``
   and ``object.__setattr__`` with a literal name.
2. No import of a private module or name of the libraries (``sigstore._internal``,
   ``from mitmproxy.optmanager import _Option``).
3. No ``resources.files()`` of the libraries (their package data is not API).

Limits (sound for this codebase, not for any code): a name computed at run time
(``getattr(x, name)``) is not seen; dunder attributes (``__dict__``, ``vars(x)``) are not
checked; a public attribute of an object from a library's private module (``FulcioClient.url``
reached through a private ``_fulcio``) is only caught at the private step before it; a private
name ztmcp defines that a library also defines is refused even on ztmcp's own objects (rename
it). A few standard-library underscore names that are documented API (``os._exit``, a named
tuple's ``_replace``/``_asdict``/``_fields``/``_make``) and Python's reserved ``_sunder_`` names
(an enum member's ``_value_``) are allowed.
"""

from __future__ import annotations

import ast
import functools
import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2] / "ztmcp"
LIBRARIES = ("mitmproxy", "sigstore", "sigstore_models", "typer")
STDLIB_API = {("os", "_exit"), ("sys", "_getframe"), ("parser", "_actions")}  # argparse
_NAMED = {"getattr", "hasattr", "setattr", "delattr"}


NAMEDTUPLE_API = frozenset({"_replace", "_asdict", "_fields", "_make", "_field_defaults"})


def _private(name: str) -> bool:
    sunder = len(name) > 2 and name.endswith("_") and not name.endswith("__")
    return (
        name.startswith("_")
        and not name.startswith("__")
        and not sunder
        and name not in NAMEDTUPLE_API
    )


def _defined(tree: ast.AST) -> set[str]:
    """Private names a module defines: functions, classes, assigned names and attributes,
    slots."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            names.add(node.attr)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            names.add(node.value)  # __slots__ entries, setattr names, dataclass field names
    return {name for name in names if _private(name)}


def _sources(root: Path) -> list[Path]:
    return sorted(root.rglob("*.py"))


@functools.cache
def _library_names() -> frozenset[str]:
    names: set[str] = set()
    for library in LIBRARIES:
        spec = importlib.util.find_spec(library)
        assert spec is not None and spec.submodule_search_locations, library
        for location in spec.submodule_search_locations:
            for path in _sources(Path(location)):
                names |= _defined(ast.parse(path.read_bytes()))
    return frozenset(names)


@functools.cache
def _ztmcp_names() -> frozenset[str]:
    names: set[str] = set()
    for path in _sources(ROOT):
        names |= _defined(ast.parse(path.read_bytes()))
    return frozenset(names)


def _library(module: str | None) -> bool:
    return module is not None and module.split(".")[0] in LIBRARIES


def violations(source: str, origin: str) -> list[str]:
    """Every private access of the libraries in ``source``, as ``origin:line: what``."""
    own = _ztmcp_names() - _library_names()
    found: list[str] = []

    def refuse(node: ast.AST, what: str) -> None:
        found.append(f"{origin}:{getattr(node, 'lineno', '?')}: {what}")

    def check(node: ast.AST, target: ast.expr, name: str) -> None:
        if not _private(name) or name in own:
            return
        if isinstance(target, ast.Name) and (
            target.id in ("self", "cls") or (target.id, name) in STDLIB_API
        ):
            return
        refuse(node, f"{ast.unparse(target)}.{name}")

    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute):
            check(node, node.value, node.attr)
        elif isinstance(node, ast.Call) and len(node.args) >= 2:
            func, (target, name) = node.func, node.args[:2]
            named = isinstance(func, ast.Name) and func.id in _NAMED
            named |= isinstance(func, ast.Attribute) and func.attr == "__setattr__"
            if named and isinstance(name, ast.Constant) and isinstance(name.value, str):
                check(node, target, name.value)
        if isinstance(node, ast.Call) and len(node.args) >= 1:
            func, first = node.func, node.args[0]
            if (
                isinstance(func, ast.Attribute)
                and func.attr == "files"
                and isinstance(first, ast.Constant)
                and _library(str(first.value))
            ):
                refuse(node, f"package data of {first.value}")
        if isinstance(node, ast.Import):
            for alias in node.names:
                if _library(alias.name) and any(map(_private, alias.name.split("."))):
                    refuse(node, f"import {alias.name}")
        elif isinstance(node, ast.ImportFrom) and _library(node.module):
            module = node.module or ""
            if any(map(_private, module.split("."))):
                refuse(node, f"from {module} import …")
            for alias in node.names:
                if _private(alias.name):
                    refuse(node, f"from {module} import {alias.name}")
    return found


def test_no_private_access_to_the_libraries_outside_compat() -> None:
    found: list[str] = []
    for path in _sources(ROOT):
        if path.parent.name == "compat":
            continue
        found += violations(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)))
    assert found == [], "move these into ztmcp/compat/<library>.py:\n" + "\n".join(found)


def test_the_scan_finds_what_compat_does_and_what_signing_used_to_do() -> None:
    """The check can fail: it reports the private reads the compat modules make on purpose,
    and each kind of access ``signing.py`` and the proxy used to make."""
    compat = "\n".join(p.read_text(encoding="utf-8") for p in _sources(ROOT / "compat"))
    reported = "\n".join(violations(compat, "compat"))
    for name in (
        "._fulcio",
        "._rekor",
        "._session",
        "._Option",
        "package data of sigstore",
        "from typer._click.globals",
    ):
        assert name in reported, name
    old = """
from sigstore._internal.rekor.client import RekorClient
from mitmproxy.optmanager import _Option
def f(loaded, context, master):
    envelope = loaded._inner.dsse_envelope
    index = loaded.log_entry._inner.log_index
    session = getattr(context._rekor, "_session", None)
    object.__setattr__(master, "_legacy_log_events", None)
    os._exit(0)
    self._private_of_ours = 1
"""
    reported = "\n".join(violations(old, "old"))
    for what in (
        "from sigstore._internal",
        "import _Option",
        "loaded._inner",
        "loaded.log_entry._inner",
        "context._rekor",
        "context._rekor._session",
        "master._legacy_log_events",
    ):
        assert what in reported, what
    assert "os._exit" not in reported and "_private_of_ours" not in reported
