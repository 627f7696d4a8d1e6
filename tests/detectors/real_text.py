"""Benign corpora of real text this machine holds, and how many chunks of each the detectors block.

Agents read documentation and source files through tools (a docs server, a filesystem or
GitHub server). Two corpora are built from what the machine has installed, into a cache
outside the repository (only this recipe is committed: the text is other projects'):

* ``docs``: package documentation (the venv's dist-info metadata and ``.md``/``.rst``/``.txt``
  files, the peers' npm READMEs and changelogs, ``/usr/share/doc``, man pages rendered by
  ``man``, pydoc of the standard library), cut into chunks of 2 to 8 KB at paragraphs;
* ``code``: source and configuration files (the venv's site-packages, the peers' tree, ``/etc``,
  ``/usr/share/doc``, Debian's Python packages), cut into chunks of about 6 KB, keeping those
  that name a credential word (what the secrets rules look at).

``report`` counts the chunks with a blocking (HIGH or CRITICAL) finding, as a tool result
(``scan_content``; ANSI escapes of man pages aside, which ``unicode.ansi_escape`` blocks by
design) and for secrets (``secrets.scan``); ``--list`` prints each block with its context.

    python -m tests.detectors.real_text build               # both corpora, into the cache
    python -m tests.detectors.real_text report [--list]

The cache is ``$ZTMCP_REAL_TEXT`` (default ``/tmp/ztmcp-real-text``). The figures depend on
what the machine has installed; compare trees on one machine (``PYTHONPATH`` at a ``git
archive`` of the other tree).
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import importlib
import io
import json
import os
import pydoc
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CACHE = Path(os.environ.get("ZTMCP_REAL_TEXT", "/tmp/ztmcp-real-text"))
MAX_FILE = 2_000_000
_CREDENTIAL = re.compile(
    r"(?i)passw|passwd|pwd|secret|token|api[_-]?key|apikey|credential|creds|auth|access[_-]?key"
    r"|private[_-]?key|_pass\b|contrase"
)
_CODE_SUFFIXES = (
    ".py", ".js", ".mjs", ".cjs", ".ts", ".json", ".yaml", ".yml", ".toml", ".ini", ".cfg",
    ".conf", ".sh", ".go", ".rb", ".md", ".env", ".properties", ".xml",
)  # fmt: skip


def _read(path: Path) -> str | None:
    try:
        if path.is_symlink() or path.stat().st_size > MAX_FILE:
            return None
        with gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb") as handle:
            data = handle.read(MAX_FILE)
    except (OSError, EOFError):
        return None
    return None if b"\0" in data[:4096] else data.decode("utf-8", "replace")


def _paragraphs(text: str, lo: int = 2000, hi: int = 8000) -> Iterator[str]:
    """``text`` in chunks of ``lo`` to ``hi`` characters, cut at blank lines where it can."""
    text = text.replace("\r\n", "\n")
    current = ""
    for para in text.split("\n\n"):
        while len(para) > hi:
            cut = para.rfind("\n", 0, hi)
            cut = hi if cut < lo else cut
            if current:
                yield current
                current = ""
            yield para[:cut]
            para = para[cut:]
        if current and len(current) + len(para) + 2 > hi and len(current) >= lo:
            yield current
            current = para
        else:
            current = f"{current}\n\n{para}" if current else para
    if current.strip():
        yield current


def _lines(text: str, size: int = 6000) -> Iterator[str]:
    """``text`` in chunks of whole lines, about ``size`` characters each."""
    chunk: list[str] = []
    n = 0
    for line in text.split("\n"):
        chunk.append(line)
        n += len(line) + 1
        if n >= size:
            yield "\n".join(chunk)
            chunk, n = [], 0
    if chunk:
        yield "\n".join(chunk)


def _site_packages() -> Path:
    return next((ROOT / ".venv" / "lib").glob("python3*/site-packages"))


def _docs() -> Iterator[tuple[str, str]]:
    site = _site_packages()
    for meta in sorted(site.glob("*.dist-info/METADATA")):
        text = _read(meta)
        if text and "\n\n" in text:
            yield meta.parent.name, text.split("\n\n", 1)[1]
    for suffix in ("md", "rst", "txt"):
        for path in sorted(site.rglob(f"*.{suffix}")):
            skip = ("LICENSE", "/tests/", "entry_points", "top_level", "RECORD", "requirements")
            if suffix != "txt" or not any(s in str(path) for s in skip):
                yield str(path.relative_to(site)), _read(path) or ""
    peers = ROOT / ".peers"
    for name in ("README.md", "readme.md", "CHANGELOG.md"):
        for path in sorted(peers.rglob(f"node_modules/**/{name}")):
            yield str(path.relative_to(peers)), _read(path) or ""
    words = ("changelog", "readme", "news", ".md", ".txt", ".rst", "todo", "faq", "history")
    for path in sorted(Path("/usr/share/doc").rglob("*")):
        if (
            path.is_file()
            and "copyright" not in path.name
            and any(w in path.name.lower() for w in words)
        ):
            yield str(path), _read(path) or ""
    for name in sorted(n for n in sys.stdlib_module_names if not n.startswith("_")):
        if name in ("antigravity", "this", "idlelib", "tkinter", "turtle", "turtledemo"):
            continue
        try:
            with (
                contextlib.redirect_stdout(io.StringIO()),
                contextlib.redirect_stderr(io.StringIO()),
            ):
                yield (
                    name,
                    pydoc.render_doc(importlib.import_module(name), renderer=pydoc.plaintext),
                )
        except Exception:  # a module that cannot be imported here has no doc
            continue
    for page in sorted(Path("/usr/share/man").glob("man[1-8]/*"))[:600]:
        env = {**os.environ, "MANWIDTH": "100"}
        try:
            run = subprocess.run(
                ["man", "-P", "cat", str(page)], capture_output=True, text=True, timeout=20, env=env
            )
        except (OSError, subprocess.SubprocessError):
            continue
        yield page.name, run.stdout


def _code() -> Iterator[tuple[str, str]]:
    roots = [
        _site_packages(),
        ROOT / ".peers",
        Path("/etc"),
        Path("/usr/share/doc"),
        Path("/usr/lib/python3"),
    ]
    for root in roots:
        for path in sorted(p for p in root.rglob("*") if p.suffix in _CODE_SUFFIXES):
            text = _read(path)
            if text:
                yield str(path), text


def build() -> None:
    CACHE.mkdir(parents=True, exist_ok=True)
    for name, files, cut, keep in (
        ("docs", _docs(), _paragraphs, lambda c: bool(c.strip())),
        ("code", _code(), _lines, lambda c: _CREDENTIAL.search(c) is not None),
    ):
        seen: set[int] = set()
        count = 0
        with open(CACHE / f"{name}.jsonl", "w", encoding="utf-8") as out:
            for source, text in files:
                for i, chunk in enumerate(cut(text)):
                    if keep(chunk) and hash(chunk) not in seen:
                        seen.add(hash(chunk))
                        out.write(json.dumps({"name": f"{source}#{i}", "text": chunk}) + "\n")
                        count += 1
        print(f"{name}: {count} chunks in {CACHE / name}.jsonl", file=sys.stderr)


def report(listing: bool) -> None:
    from ztmcp.detectors import scan_content, secrets
    from ztmcp.detectors.findings import RANK
    from ztmcp.severity import Severity

    def blocking(findings: list) -> list:  # type: ignore[type-arg]
        return [
            f
            for f in findings
            if RANK[f.severity] >= RANK[Severity.HIGH] and f.rule != "unicode.ansi_escape"
        ]

    for name in ("docs", "code"):
        path = CACHE / f"{name}.jsonl"
        if not path.exists():
            raise SystemExit(
                f"{path}: missing; run `python -m tests.detectors.real_text build` first"
            )
        chunks = content = found = 0
        rules: Counter[str] = Counter()
        with open(path, encoding="utf-8") as handle:
            rows = [json.loads(line) for line in handle]
        for row in rows:
            text = row["text"]
            chunks += 1
            for label, hits in (
                ("result", blocking(scan_content(text))),
                ("secrets", blocking(secrets.scan(text))),
            ):
                if not hits:
                    continue
                if label == "result":
                    content += 1
                else:
                    found += 1
                rules.update({f"{label} {f.rule}" for f in hits})
                if listing:
                    f = hits[0]
                    around = text[max(0, f.start - 80) : f.end + 40]
                    print(f"{name} {label} {f.rule} {row['name']}: {around!r}")
        print(f"{name}: {chunks} chunks; as a tool result {content} block; secrets {found} block")
        for rule, n in rules.most_common():
            print(f"  {rule:40} {n}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("step", choices=("build", "report"))
    parser.add_argument("--list", action="store_true", help="print each blocking finding")
    args = parser.parse_args()
    if args.step == "build":
        build()
    else:
        report(args.list)


if __name__ == "__main__":
    main()
