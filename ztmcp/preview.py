"""What a person sees of a held call: its arguments with secrets masked, bounded in size.

The preview is stored in the approval row (``ztmcp.state.approvals``) and shown by the TUI and
the desktop notification, so it must never hold a secret: every string (keys too) goes through
the secrets detector and each finding is replaced by ``detectors.findings.mask``; a value under
a key that names a secret (``password``, ``token``, ``api_key`` …) is masked whole, whatever
it looks like. Masking comes first, truncation after, so a cut never splits a secret into a
part the detector would no longer recognise. Nesting, item counts and lengths are bounded: a
preview is at most ``MAX_PREVIEW`` characters whatever the call.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from ztmcp.detectors.findings import mask

MAX_PREVIEW: Final = 1200  # characters of the whole preview
MAX_STRING: Final = 160  # characters shown of one string value (after masking)
MAX_ITEMS: Final = 20  # keys of one object, items of one array
MAX_DEPTH: Final = 4
MAX_DESCRIPTION: Final = 600
_SECRET_KEY: Final = re.compile(
    r"(pass(word|wd|phrase)?|secret|token|api[_-]?key|apikey|auth|credential|private[_-]?key|"
    r"cookie|session[_-]?id|bearer)",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Preview:
    text: str  # JSON-like, one line per top-level argument
    masked: int  # how many secrets were masked


def _masked(text: str) -> tuple[str, int]:
    from ztmcp.detectors.secrets import scan

    try:
        found = scan(text)
    except Exception:  # fail closed: a value the detector cannot read is not shown
        return mask(text), 1
    spans = sorted({(f.start, f.end) for f in found if f.end > f.start})
    if not spans:
        return text, 0
    out: list[str] = []
    at = 0
    count = 0
    for start, end in spans:
        if start < at:  # overlapping finding: already masked by the wider one
            continue
        out.append(text[at:start])
        out.append(mask(text[start:end]))
        at = end
        count += 1
    out.append(text[at:])
    return "".join(out), count


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class _Builder:
    def __init__(self) -> None:
        self.masked = 0

    def string(self, value: str, secret_key: bool) -> str:
        if secret_key and value:
            self.masked += 1
            return json.dumps(mask(value), ensure_ascii=False)
        shown, count = _masked(value)
        self.masked += count
        return json.dumps(_cut(shown, MAX_STRING), ensure_ascii=False)

    def key(self, key: str) -> str:
        return self.string(key, False)

    def value(self, value: Any, depth: int, secret_key: bool = False) -> str:
        if isinstance(value, str):
            return self.string(value, secret_key)
        if isinstance(value, bool) or value is None or isinstance(value, int | float):
            if secret_key and value is not None and not isinstance(value, bool):
                self.masked += 1
                return json.dumps(mask(str(value)), ensure_ascii=False)
            return json.dumps(value)
        if depth >= MAX_DEPTH:
            return "{…}" if isinstance(value, dict) else "[…]"
        if isinstance(value, dict):
            items = list(value.items())
            parts = [
                f"{self.key(str(k))}: "
                f"{self.value(v, depth + 1, secret_key or bool(_SECRET_KEY.search(str(k))))}"
                for k, v in items[:MAX_ITEMS]
            ]
            if len(items) > MAX_ITEMS:
                parts.append(f"… {len(items) - MAX_ITEMS} more")
            return "{" + ", ".join(parts) + "}"
        if isinstance(value, list):
            parts = [self.value(v, depth + 1, secret_key) for v in value[:MAX_ITEMS]]
            if len(value) > MAX_ITEMS:
                parts.append(f"… {len(value) - MAX_ITEMS} more")
            return "[" + ", ".join(parts) + "]"
        return json.dumps(f"<{type(value).__name__}>")


def arguments(args: Mapping[str, Any] | None) -> Preview:
    """The preview of a call's ``arguments`` (one ``key: value`` line each)."""
    if not args:
        return Preview("(no arguments)", 0)
    builder = _Builder()
    lines = []
    items = list(args.items())
    for key, value in items[:MAX_ITEMS]:
        secret_key = bool(_SECRET_KEY.search(str(key)))
        lines.append(f"{builder.key(str(key))[1:-1]}: {builder.value(value, 1, secret_key)}")
    if len(items) > MAX_ITEMS:
        lines.append(f"… {len(items) - MAX_ITEMS} more arguments")
    return Preview(_cut("\n".join(lines), MAX_PREVIEW), builder.masked)


def description(definition: Mapping[str, Any] | None) -> str:
    """The tool's description as listed (masked like an argument, bounded); ``""`` if none."""
    if definition is None:
        return ""
    text = definition.get("description")
    if not isinstance(text, str):
        return ""
    shown, _ = _masked(text)
    return _cut(" ".join(shown.split()), MAX_DESCRIPTION)
