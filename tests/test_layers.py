"""The import graph of ``ztmcp/``: the core never reaches up into the outer layers.

An AST scan of every module (no import of ztmcp itself: a bad edge cannot hide behind an
import-time error). Layers, bottom up:

- core: ``severity``, ``errors``, ``jsonrpc`` (leaves), then ``detectors``, ``checks``,
  ``state``, ``session``, ``policy``;
- outer: ``adapters``, ``cli``, ``tui``, ``runtime``, ``sandbox``, ``watch``, ``export``,
  ``clients``, ``compat`` (present or not yet);
- domain: ``drift`` (what differs between a pin and a server) and ``pins`` (a pin and the
  files it keeps), which the CLI and the TUI only ask and render, are held to the core's
  rule: no edge to an outer layer, nor to the parts that run traffic (``checks``,
  ``session``, ``policy``, ``state``, ``detectors``);
- every other module (``lockfile``, ``manifest``, ``trust``, ``credentials``, …) is shared
  and sits between them; its own edges are not ruled here, but the runtime closure test
  below follows them.

Edges counted: every ``import`` and ``from … import`` anywhere in a module, inside functions
(lazy imports are still dependencies) and inside ``if TYPE_CHECKING:`` too: a type named
across layers is a dependency of the design even when it costs nothing at run time, and a
core signature that names an adapter type is exactly the coupling this test exists to stop.
Third-party frameworks (textual, typer, mitmproxy, sigstore) are counted at module level
outside ``TYPE_CHECKING``: that is what loading the core would pull in.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import pytest

ROOT: Final = Path(__file__).resolve().parent.parent / "ztmcp"

CORE: Final = ("severity", "errors", "jsonrpc", "detectors", "checks", "state", "session", "policy")
OUTER: Final = frozenset(
    {"adapters", "cli", "tui", "runtime", "sandbox", "watch", "export", "clients", "compat"}
)
# What each core part may not import (besides the outer layers, which none may).
FORBIDDEN: Final[dict[str, frozenset[str]]] = {
    "severity": frozenset(CORE) - {"severity"},
    "errors": frozenset(CORE) - {"errors"},
    "jsonrpc": frozenset(CORE) - {"jsonrpc", "errors", "severity"},
    "detectors": frozenset({"checks", "state", "session", "policy"}),
    "checks": frozenset({"session", "policy"}),
    "state": frozenset({"detectors", "checks", "session", "policy"}),
    "session": frozenset({"policy"}),
    "policy": frozenset(),
    "drift": frozenset({"detectors", "checks", "state", "session", "policy"}),
    "pins": frozenset({"detectors", "checks", "state", "session", "policy"}),
}
FRAMEWORKS: Final = frozenset({"textual", "typer", "mitmproxy", "sigstore"})


@dataclass(frozen=True)
class Edge:
    source: str  # dotted module name
    target: str  # dotted module name (ztmcp's) or top-level package (third party)
    line: int
    runtime: bool  # at module level, outside ``if TYPE_CHECKING:``

    def __str__(self) -> str:
        return f"{self.source}:{self.line} imports {self.target}"


def modules(root: Path) -> dict[str, Path]:
    """Dotted name -> file for every module of the package at ``root``."""
    out: dict[str, Path] = {}
    for path in sorted(root.rglob("*.py")):
        parts = (root.name, *path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST, runtime: bool = True) -> Iterator[tuple[ast.stmt, bool]]:
    """Every import statement, with whether it runs when the module is loaded."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node, runtime
        elif isinstance(node, ast.If) and _type_checking(node.test):
            for child in node.body:
                yield from _imports(ast.Module([child], []), False)
            for child in node.orelse:
                yield from _imports(ast.Module([child], []), runtime)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            yield from _imports(node, False)
        else:
            yield from _imports(node, runtime)


def edges(root: Path) -> list[Edge]:
    known = modules(root)
    pkg = root.name
    out: list[Edge] = []
    for name, path in known.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node, runtime in _imports(tree):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - node.level + 1]
                    mod = ".".join([*base, *([node.module] if node.module else [])])
                else:
                    mod = node.module or ""
                # ``from ztmcp.detectors import secrets`` imports the module detectors.secrets
                subs = [f"{mod}.{a.name}" for a in node.names if f"{mod}.{a.name}" in known]
                targets = subs or [mod]
                if subs and len(subs) < len(node.names):
                    targets.append(mod)
            for target in targets:
                if target == pkg or target.startswith(pkg + "."):
                    out.append(Edge(name, target, node.lineno, runtime))
                else:
                    out.append(Edge(name, target.split(".")[0], node.lineno, runtime))
    return out


def part(module: str) -> str:
    """The layer part of a dotted ztmcp module name: ``ztmcp.checks.pins`` -> ``checks``."""
    return module.split(".")[1] if "." in module else ""


def bad_edges(root: Path) -> list[str]:
    pkg = root.name
    out: list[str] = []
    for e in edges(root):
        src = part(e.source)
        if src not in FORBIDDEN:
            continue
        if e.target.startswith(pkg + "."):
            dst = part(e.target)
            if dst != src and (dst in OUTER or dst in FORBIDDEN[src]):
                out.append(f"{e} (upward: {src} -> {dst})")
        elif e.runtime and e.target in FRAMEWORKS:
            out.append(f"{e} (a framework loaded by the core)")
    return out


def core_cycles(root: Path) -> list[list[str]]:
    """Cycles in the graph of core parts (an edge: any module of one imports the other)."""
    pkg = root.name
    graph: dict[str, set[str]] = {p: set() for p in CORE}
    for e in edges(root):
        src, dst = part(e.source), part(e.target) if e.target.startswith(pkg + ".") else ""
        if src in graph and dst in graph and src != dst:
            graph[src].add(dst)
    cycles: list[list[str]] = []

    def visit(node: str, trail: list[str]) -> None:
        for nxt in sorted(graph[node]):
            if nxt == trail[0]:
                cycles.append([*trail, nxt])
            elif nxt not in trail and nxt > trail[0]:  # each cycle once, from its least part
                visit(nxt, [*trail, nxt])

    for start in sorted(graph):
        visit(start, [start])
    return cycles


def runtime_reach(root: Path, start: str) -> set[str]:
    """Every module (and third-party package) loaded by importing ``start``: runtime edges,
    followed through every ztmcp module, shared ones included, and through parent packages."""
    by_source: dict[str, set[str]] = {}
    for e in edges(root):
        if e.runtime:
            by_source.setdefault(e.source, set()).add(e.target)
    seen: set[str] = set()
    todo = [start]
    while todo:
        mod = todo.pop()
        if mod in seen:
            continue
        seen.add(mod)
        parts = mod.split(".")
        todo.extend(".".join(parts[:i]) for i in range(1, len(parts)))  # parent packages
        todo.extend(by_source.get(mod, ()))
    return seen


def test_the_scan_sees_the_core() -> None:
    """The scan is not vacuous: it finds the edges the design relies on."""
    found = {(e.source, e.target) for e in edges(ROOT)}
    assert ("ztmcp.checks.poisoning", "ztmcp.detectors") in found
    assert ("ztmcp.session", "ztmcp.checks.base") in found
    assert ("ztmcp.detectors.findings", "ztmcp.severity") in found
    # the drift comparison, rendered by the CLI and the TUI
    assert {("ztmcp.cli.pin_cmd", "ztmcp.drift"), ("ztmcp.tui.drift", "ztmcp.drift")} <= found
    assert {("ztmcp.cli.pin_cmd", "ztmcp.pins"), ("ztmcp.tui.drift", "ztmcp.pins")} <= found
    assert {part(m) for m in modules(ROOT)} >= set(CORE) | {"adapters", "cli", "tui"}


def test_no_upward_edges() -> None:
    assert bad_edges(ROOT) == []


def test_no_cycles_among_core_parts() -> None:
    assert core_cycles(ROOT) == []


def test_severity_is_a_leaf() -> None:
    assert [
        e for e in edges(ROOT) if e.source == "ztmcp.severity" and e.target.startswith("ztmcp")
    ] == []


@pytest.mark.parametrize(
    "start",
    [
        "ztmcp.detectors",
        "ztmcp.checks",
        "ztmcp.session",
        "ztmcp.policy",
        "ztmcp.state",
        "ztmcp.drift",
        "ztmcp.pins",
    ],
)
def test_loading_the_core_loads_no_outer_layer(start: str) -> None:
    """Followed through the shared modules too: what ``import`` of a core part really runs."""
    reach = runtime_reach(ROOT, start)
    outer = sorted(m for m in reach if part(m) in OUTER or m in FRAMEWORKS)
    assert outer == []


# The checker itself, on a made-up package: every kind of bad edge is reported.

_BAD: Final = {
    "upward": ("detectors/a.py", "from pkg.checks.base import Verdict\n"),
    "outer, lazily": ("checks/b.py", "def f():\n    from pkg.cli import app\n"),
    "type only": (
        "session.py",
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.adapters import x\n",
    ),
    "relative": ("detectors/c.py", "from ..policy import Policy\n"),
    "framework": ("policy.py", "import textual.app\n"),
    "domain, lazily": ("drift.py", "def f():\n    from pkg.tui import app\n"),
    "domain to state": ("drift.py", "from pkg.state import db\n"),
}


def _package(tmp_path: Path, extra: dict[str, str]) -> Path:
    root = tmp_path / "pkg"
    files = {
        "__init__.py": "",
        "severity.py": "",
        "detectors/__init__.py": "from pkg.severity import Severity\n",
        "checks/__init__.py": "",
        "checks/base.py": "from pkg.detectors import x\n",
        "session.py": "from pkg.checks import base\n",
        "policy.py": "from pkg.session import Mode\n",
        "cli/__init__.py": "from pkg.policy import load\n",
        "adapters/__init__.py": "",
        **extra,
    }
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def test_a_clean_package_passes(tmp_path: Path) -> None:
    root = _package(tmp_path, {})
    assert bad_edges(root) == []
    assert core_cycles(root) == []


@pytest.mark.parametrize("kind", sorted(_BAD))
def test_each_bad_edge_is_reported(tmp_path: Path, kind: str) -> None:
    rel, text = _BAD[kind]
    root = _package(tmp_path, {rel: text})
    reported = bad_edges(root)
    assert len(reported) == 1, reported


def test_a_cycle_is_reported(tmp_path: Path) -> None:
    root = _package(
        tmp_path,
        {
            "detectors/__init__.py": "from pkg.state import db\n",
            "state/__init__.py": "",
            "state/db.py": "import pkg.detectors\n",
        },
    )
    assert core_cycles(root) == [["detectors", "state", "detectors"]]


def test_reach_follows_shared_modules(tmp_path: Path) -> None:
    root = _package(
        tmp_path,
        {"checks/__init__.py": "import pkg.shared\n", "shared.py": "from pkg.adapters import x\n"},
    )
    assert "pkg.adapters" in runtime_reach(root, "pkg.checks")
