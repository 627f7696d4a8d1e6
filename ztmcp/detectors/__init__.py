"""Text scanners shared by the checks and ``ztmcp scan``: pure functions of strings and JSON.

- ``unicode``: hidden content (tag characters, zero-width, bidi, ANSI, comments, encoded blobs);
- ``instructions``: instructions aimed at the model (poisoned descriptions, injected content);
- ``secrets``: credentials and personal data.

The helpers below apply them to the MCP shapes the checks see: a listed tool (or prompt or
resource), a piece of content, a JSON arguments object. Every walk covers every string and
every object key; past its bounds (``ztmcp.detectors.mcp``) it raises ``ScanLimit``: a value
too large to scan whole is refused by the check that asked, never partially scanned.
"""

from __future__ import annotations

import bisect
import importlib
import re
from collections.abc import Iterator, Mapping
from itertools import accumulate
from types import ModuleType
from typing import TYPE_CHECKING, Any, Final

from ztmcp.detectors import gate
from ztmcp.detectors.findings import BLOCKING, RANK, Finding, at_least, mask, worst
from ztmcp.detectors.lazyre import compile_now
from ztmcp.detectors.mcp import MAX_CHARS, MAX_DEPTH, MAX_STRINGS, ScanLimit, Text, walk
from ztmcp.severity import Severity

__all__ = [
    "BLOCKING",
    "Finding",
    "ScanLimit",
    "at_least",
    "iter_strings",
    "mask",
    "scan_arguments",
    "scan_content",
    "scan_definition",
    "secret_line",
    "worst",
]


class _Lazy:
    """A detector module imported on first use.

    An MCP client starts one ``ztmcp run`` per server and waits for it: nothing here is
    imported before a check first needs it. The rule modules' regexes compile at their own
    first use (``lazyre``); ``warm_up`` builds the RE2 sets on a background thread once the
    relay is first idle (``StdioRelay(when_idle=…)``); a use before that builds what it needs.
    """

    def __init__(self, name: str) -> None:
        self._name = f"ztmcp.detectors.{name}"

    def __getattr__(self, attr: str) -> Any:
        module = importlib.import_module(self._name)
        self.__dict__.update(vars(module))  # later lookups never come back here
        return getattr(module, attr)


if TYPE_CHECKING:
    from ztmcp.detectors import instructions, learned, offtopic, secrets, unicode
else:
    instructions, learned, offtopic, secrets, unicode = (
        _Lazy(n) for n in ("instructions", "learned", "offtopic", "secrets", "unicode")
    )

RULE_MODULES: Final = ("unicode", "instructions", "secrets")


def warm_up() -> list[ModuleType]:
    """Import every rule module and build its RE2 sets (the rules compile at first use); for
    a background thread."""
    modules = [importlib.import_module(f"ztmcp.detectors.{name}") for name in RULE_MODULES]
    for module in modules:
        compile_sets = getattr(module, "compile_sets", None)
        if compile_sets is not None:
            compile_sets()
    compile_now(offtopic.PATTERNS)
    importlib.import_module("ztmcp.detectors.normalise").warm_up()
    gate.build()
    return modules


# Parameter names that ask the model for its own context; a finding on their own only at
# MEDIUM, since a genuine LLM-facing tool may take a "system_prompt" it is meant to use.
_HARVEST_PARAM: Final = re.compile(
    r"^(?:system_?prompt|system_?instructions?|(?:full_?|entire_?)?conversation(?:_?history)?"
    r"|chat_?history|previous_?messages|message_?history|context_?window|(?:available|other|all)"
    r"_?tools|tools?_?list|hidden_?instructions?|(?:llm|ai|assistant|agent)_?(?:model_?)?"
    r"(?:name|identity|version|vendor|provider))$",
    re.IGNORECASE,
)


_SCALARS: Final = (str, int, float, type(None))  # bool is an int


def iter_strings(value: Any, *, keys: bool = False) -> Iterator[tuple[str, str]]:
    """(path, string) for every string in a JSON value in document order, and with ``keys``
    every object key (path ``…/key#key``, before its value). Raises ``ScanLimit`` past the
    bounds: a value too large is refused whole, never scanned in part."""
    stack: list[tuple[str, Any, int]] = [("", value, 0)]
    count = 0
    chars = 0
    while stack:
        path, item, depth = stack.pop()
        if isinstance(item, str):
            count += 1
            chars += len(item)
            _bound(count, chars)
            yield path, item
        elif isinstance(item, _SCALARS):
            continue  # before the Mapping check: an ABC check is slow, and most leaves are these
        elif isinstance(item, _Key):
            count += 1
            chars += len(item.text)
            _bound(count, chars)
            yield f"{path}#key", item.text
        elif isinstance(item, (dict, Mapping)):
            _deep(depth)
            for k, v in reversed(list(item.items())):
                sub = f"{path}/{k}"
                if type(v) not in _LEAF_TYPES:  # numbers, booleans, null: nothing to yield
                    stack.append((sub, v, depth + 1))
                if keys and isinstance(k, str):
                    stack.append((sub, _Key(k), depth + 1))
        elif isinstance(item, list):
            _deep(depth)
            for i in range(len(item) - 1, -1, -1):
                if type(item[i]) not in _LEAF_TYPES:
                    stack.append((f"{path}/{i}", item[i], depth + 1))


class _Key:
    """An object key queued in the walk (yielded before its value)."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


def _bound(count: int, chars: int) -> None:
    if count > MAX_STRINGS:
        raise ScanLimit(f"more than {MAX_STRINGS} strings")
    if chars > MAX_CHARS:
        raise ScanLimit(f"more than {MAX_CHARS} characters of text")


def _deep(depth: int) -> None:
    if depth >= MAX_DEPTH:
        raise ScanLimit(f"nesting deeper than {MAX_DEPTH}")


_LEAF_TYPES: Final = frozenset({int, float, bool, type(None)})


def _texts(value: Any, *, keys: bool = False, prose: list[_Prose] | None = None) -> list[str]:
    """The strings of ``iter_strings(value, keys=keys)`` (same order, same bounds), without
    their paths: a definition's scan does not need them, and building them is most of the
    walk. With ``prose``, the ``title`` and ``description`` strings are also listed there
    (``_reading``)."""
    walk = _Walk(keys, prose)
    walk.value(value, 0)
    return walk.out


class _Walk:
    """``_texts``' walk: recursive (the depth is bounded by ``MAX_DEPTH``, far below Python's
    limit), one call per object or array; an exact ``str``, ``dict`` or ``list`` member is
    settled by its type, anything else by ``value``'s ``isinstance`` checks. Every string
    counts against the bounds as it is listed, in document order, as ``iter_strings``'."""

    __slots__ = ("chars", "keys", "objects", "out", "prose")

    def __init__(self, keys: bool, prose: list[_Prose] | None) -> None:
        self.out: list[str] = []
        self.chars = 0
        self.objects = 0
        self.keys = keys
        self.prose = prose

    def value(self, item: Any, depth: int) -> None:
        if isinstance(item, str):
            self.text(item)
        elif isinstance(item, _SCALARS):
            return
        elif isinstance(item, (dict, Mapping)):
            self.mapping(item, depth)
        elif isinstance(item, list):
            self.array(item, depth)

    def text(self, text: str) -> None:
        out = self.out
        out.append(text)
        self.chars += len(text)
        if len(out) > MAX_STRINGS or self.chars > MAX_CHARS:
            _bound(len(out), self.chars)

    def mapping(self, item: Mapping[Any, Any], depth: int) -> None:
        _deep(depth)
        self.objects += 1
        obj = self.objects
        below = depth + 1
        keys, prose, out = self.keys, self.prose, self.out
        for k, v in item.items():
            if keys and isinstance(k, str):
                out.append(k)
                self.chars += len(k)
                if len(out) > MAX_STRINGS or self.chars > MAX_CHARS:
                    _bound(len(out), self.chars)
            kind = type(v)
            if kind is str:
                if prose is not None and k in _PROSE_RANK:
                    found = _Prose(v, k, depth, obj)
                    found.index = len(out)
                    prose.append(found)
                out.append(v)
                self.chars += len(v)
                if len(out) > MAX_STRINGS or self.chars > MAX_CHARS:
                    _bound(len(out), self.chars)
            elif kind is dict:
                self.mapping(v, below)
            elif kind is list:
                self.array(v, below)
            elif kind not in _LEAF_TYPES:
                self.value(v, below)

    def array(self, item: list[Any], depth: int) -> None:
        _deep(depth)
        below = depth + 1
        out = self.out
        for v in item:
            kind = type(v)
            if kind is str:
                out.append(v)
                self.chars += len(v)
                if len(out) > MAX_STRINGS or self.chars > MAX_CHARS:
                    _bound(len(out), self.chars)
            elif kind is dict:
                self.mapping(v, below)
            elif kind is list:
                self.array(v, below)
            elif kind not in _LEAF_TYPES:
                self.value(v, below)


# The fields a client puts into the prompt as prose, in the order it puts them: an object's
# title before its description, whatever the key order (``_reading``).
_PROSE_RANK: Final = {"title": 0, "description": 1}


class _Prose(_Key):
    """A ``title`` or ``description`` string queued in the walk: where it sits (its object's
    depth and pre-order number) and, once yielded, its index among the strings."""

    __slots__ = ("depth", "index", "key", "obj")

    def __init__(self, text: str, key: str, depth: int, obj: int) -> None:
        super().__init__(text)
        self.key = key
        self.depth = depth
        self.obj = obj
        self.index = -1

    @property
    def label(self) -> str:
        return f"the {self.key}" if self.depth == 0 else f"a schema {self.key}"


def _param_names(schema: Any) -> list[str]:
    """Property names anywhere in a JSON schema, in document order (linear in the schema;
    ``ScanLimit`` past the depth bound, as for every walk)."""
    out: list[str] = []
    _schema_names(schema, 0, out)
    return out


def _schema_names(node: Any, depth: int, out: list[str]) -> None:
    """``_param_names``' walk: recursive (depth bounded), one call per object or array; exact
    JSON types are settled by their type, anything else by ``_container``."""
    _deep(depth)
    below = depth + 1
    kind = type(node)
    if kind is dict or (kind is not list and isinstance(node, Mapping)):
        props = node.get("properties")
        if type(props) is dict or isinstance(props, Mapping):
            out.extend([k for k in props if isinstance(k, str)])
        values: Any = node.values()
    elif isinstance(node, list):
        values = node
    else:
        return
    for v in values:
        kind = type(v)
        if kind is dict or kind is list or (kind not in _SCALAR_TYPES and _container(v)):
            _schema_names(v, below, out)


_SCALAR_TYPES: Final = frozenset({str, int, float, bool, type(None)})


def _container(value: Any) -> bool:
    """A JSON object or array (the common types first: ABC checks are slow)."""
    if isinstance(value, dict | list):
        return True
    return not isinstance(value, _SCALARS) and isinstance(value, Mapping)


def scan_definition(item: Mapping[str, Any]) -> list[Finding]:
    """Findings for one listed tool, prompt or resource: every string and every object key
    (names, descriptions, schema strings, schema property names: models read them all).

    Offsets refer to ``iter_strings(item, keys=True)`` joined with newlines; they locate,
    never quote. Raises ``ScanLimit`` for an item too large to scan whole.
    """
    findings, joined = _definition_rules(item)
    # The learned signal (weak; see ``_escalate``) reads listed definitions, which all have a
    # name; not the server's ``instructions``, whose job is to instruct the model.
    if "name" in item:
        learned_finding = learned.definition_finding(joined)
        if learned_finding is not None:
            findings.append(learned_finding)
    return _escalate(findings)


def _definition_rules(item: Mapping[str, Any]) -> tuple[list[Finding], str]:
    """``scan_definition``'s rule findings before the learned signal and the escalation, and
    the definition's strings (hidden characters revealed) one per line, as the model reads it."""
    prose: list[_Prose] = []
    texts = _texts(item, keys=True, prose=prose)
    findings: list[Finding] = []
    # One scan of all the strings first: when it finds nothing, no single string has anything
    # (a newline breaks every run the rules look for), which spares a call per short string.
    whole = "\n".join(texts)
    plain = whole.isascii()  # ``reveal`` changes no ASCII string: the blobs are the same
    blobs = list(unicode.decoded_blobs(whole)) if plain else []
    if unicode.scan(whole, unicode.DESCRIPTION, blobs if plain else None):
        offset = 0
        for text in texts:
            for f in unicode.scan(text, unicode.DESCRIPTION):
                findings.append(_shift(f, offset))
            offset += len(text) + 1
    if plain:
        revealed, joined = texts, whole
    else:
        revealed = [unicode.reveal(text) for text in texts]
        joined = "\n".join(revealed)
        blobs = list(unicode.decoded_blobs(joined))
    findings.extend(_read(joined, revealed, prose))
    for start, _end, decoded in blobs:
        for f in instructions.scan(decoded, instructions.DESCRIPTION):
            findings.append(Finding(f.rule, f.severity, start, start, f.message + " (encoded)"))
    for schema_key in ("inputSchema", "outputSchema", "arguments"):
        schema = item.get(schema_key)
        if schema is None:
            continue
        names = _param_names(schema) if isinstance(schema, Mapping) else []
        if isinstance(schema, list):  # prompt arguments: [{"name": …}]
            names = [a.get("name", "") for a in schema if isinstance(a, Mapping)]
        for name in names:
            if isinstance(name, str) and _HARVEST_PARAM.match(name.replace("-", "_")):
                findings.append(
                    Finding(
                        "instr.context_param",
                        Severity.MEDIUM,
                        0,
                        0,
                        "a parameter that asks for the model's own context",
                    )
                )
    return findings, joined


def _read(joined: str, revealed: list[str], prose: list[_Prose]) -> list[Finding]:
    """``instructions.scan`` of the strings one per line (``joined``) and of the definition
    read as the model reads it: its titles and descriptions one after the other, an object's
    title before its description, objects in document order (a tool's own fields, then its
    parameters'), so that a sentence split across fields is one sentence (``_seams``).

    Both are one scan (a scan's fixed cost is most of a short text's): the sentences across
    fields follow the strings after ``_APART``, which no rule reads across. What lies within
    one field the strings' part has; from the other part only a finding that spans a field
    boundary is kept, placed from the field it starts in to the one it ends in (offsets in
    ``joined``), unless a finding of the same rule is already there; ``instr.combined`` is
    left to the strings' part and ``_escalate``."""
    if len(prose) < 2:
        return instructions.scan(joined, instructions.DESCRIPTION)
    prose = sorted(prose, key=lambda p: (p.obj, _PROSE_RANK[p.key]))
    text, segments = _seams([revealed[p.index] for p in prose])
    if not segments:
        return instructions.scan(joined, instructions.DESCRIPTION)
    base = len(joined) + len(_APART)
    found = instructions.scan(joined + _APART + text, instructions.DESCRIPTION)
    own = [f for f in found if f.end <= len(joined)]
    # The sentences' findings: not the strings' own, nor one reaching across ``_APART``.
    across = [
        f for f in found if f.start >= base and f.rule != "instr.combined" and f.end > f.start
    ]
    if not across:
        return own
    at = [seg[0] + base for seg in segments]
    starts = list(accumulate((len(t) + 1 for t in revealed), initial=0))
    out: list[Finding] = []
    for f in across:
        i = bisect.bisect_right(at, f.start) - 1
        j = bisect.bisect_right(at, f.end - 1) - 1
        first, last = segments[i], segments[j]
        if first[1] == last[1] or first[3] != last[3]:
            continue  # within one field, or across two sentences' lines (not a sentence)
        lo = starts[prose[first[1]].index] + first[2] + max(0, f.start - at[i])
        hi = starts[prose[last[1]].index] + last[2] + max(0, f.end - at[j])
        lo, hi = min(lo, hi), max(lo, hi)
        if any(g.rule == f.rule and g.start < hi and lo < g.end for g in (*own, *out)):
            continue
        out.append(
            Finding(
                f.rule,
                f.severity,
                lo,
                hi,
                f"{f.message} (a sentence split across {prose[first[1]].label} and "
                f"{prose[last[1]].label})",
            )
        )
    return own + out


# Between the strings and the sentences across fields: a line no rule matches or reads across
# (``[^\n]`` gaps stop at a line break, ``\s`` and ``\w`` runs at the full stop).
_APART: Final = "\n.\n"


# Where a sentence ends: ., ! or ? (closing quotes or brackets may follow) before a space or
# the end, or a blank line. A line break alone does not end one (docstrings wrap sentences).
_SENTENCE_END: Final = re.compile(r"[.!?][\"')\]]*(?=\s|$)|\n[ \t]*\n")


def _last_end(text: str) -> int:
    """Where the text after ``text``'s last sentence end starts (0: it ends none). Looked for
    in growing suffixes: a description is long, its last sentence is not."""
    size = 256
    while True:
        lo = max(0, len(text) - size)
        last = None
        for found in _SENTENCE_END.finditer(text, lo):
            last = found
        # A match found from ``lo`` on is the last one unless a longer one starts before ``lo``
        # and reaches past it (a blank line cut in two): look again from further back.
        if last is not None and last.start() > lo:
            return last.end()
        if lo == 0:
            return last.end() if last is not None else 0
        size *= 4


def _seams(pieces: list[str]) -> tuple[str, list[tuple[int, int, int, int]]]:
    """The sentences that run across a field boundary, one per line: the open end of a field
    (after its last sentence end) joined by a space to the start of the next (up to its first
    sentence end), on through fields that end no sentence. Returns the text and its segments
    (start in the text, piece, offset in the piece, line). What lies inside one field, and a
    field that ends its sentence, the per-field scan has read as the model does."""
    lines: list[str] = []
    segments: list[tuple[int, int, int, int]] = []
    pos = 0
    k = 0
    n = len(pieces)
    while k < n - 1:
        closed = pieces[k].rstrip().rstrip("\"')]")
        if not closed or closed[-1] in ".!?":  # most fields end their sentence: no regex
            k += 1
            continue
        tail = _last_end(pieces[k])
        if not pieces[k][tail:].strip():
            k += 1
            continue
        parts = [(k, tail, len(pieces[k]))]
        j = k + 1
        while j < n:
            end = _SENTENCE_END.search(pieces[j])
            parts.append((j, 0, end.end() if end is not None else len(pieces[j])))
            if end is not None:
                break
            j += 1
        line = len(lines)
        texts = []
        for piece, lo, hi in parts:
            segments.append((pos, piece, lo, line))
            texts.append(pieces[piece][lo:hi])
            pos += hi - lo + 1
        lines.append(" ".join(texts))
        k = j
    return "\n".join(lines), segments


def _escalate(findings: list[Finding]) -> list[Finding]:
    """Two different MEDIUM signals in one definition make a HIGH one (short texts)."""
    if any(RANK[f.severity] >= RANK[Severity.HIGH] for f in findings):
        return findings
    medium = {f.rule for f in findings if f.severity is Severity.MEDIUM}
    if len(medium) >= 2:
        findings.append(
            Finding(
                "instr.combined", Severity.HIGH, 0, 0, "several weaker signals in one definition"
            )
        )
    return findings


def _shift(f: Finding, offset: int) -> Finding:
    return Finding(f.rule, f.severity, f.start + offset, f.end + offset, f.message)


def scan_content(text: str) -> list[Finding]:
    """Findings for content a model will read (tool results, pages, e-mails, documents)."""
    if not text:  # no rule finds anything in an empty text (``_content("") == []``, tested):
        return []  # a frame with no text (an answer to ``ping``) imports no rule module
    if gate.clear(text, gate.CONTENT):  # no first test of any rule passes (``gate``)
        return []
    return _content(text)


def _content(text: str) -> list[Finding]:
    """``scan_content`` without its empty-text gate. The learned signal is not applied to
    content: beside a MEDIUM rule it blocked 8 of the red team's 61 held-out benign results
    and caught no attack the rules missed (docs/detection.md, "A learned signal")."""
    return _content_rules(text)[0]


def _content_rules(text: str) -> tuple[list[Finding], str]:
    """The rules' findings on content, and the text with hidden characters revealed (where
    ``learned.windows`` would read; ``train_model`` measures the combination there)."""
    blobs = list(unicode.decoded_blobs(text))
    findings = unicode.scan(text, unicode.CONTENT, blobs)
    revealed = unicode.reveal(text)
    findings.extend(instructions.scan(revealed, instructions.CONTENT))
    findings.extend(offtopic.scan(revealed))
    for start, end, decoded in blobs:
        for f in instructions.scan(decoded, instructions.CONTENT):
            findings.append(Finding(f.rule, f.severity, start, end, f.message + " (encoded)"))
    return findings, revealed


# MCP members whose value is an opaque protocol identifier the SDK generates (a progress
# token, a pagination cursor, a request id), not something a credential is assigned to: read
# without their key, so that the keyword rule does not take ``progressToken: <random>`` for a
# token assignment; the provider rules still see the value itself.
_PROTOCOL_IDS: Final = frozenset({"progressToken", "cursor", "nextCursor", "requestId"})


def secret_line(text: Text) -> str:
    """How ``secrets`` reads one string of a JSON value: a member value as ``key: value`` (so
    that keyword rules see ``{"password": "…"}``), a key or an array item as it is."""
    if not text.key and text.path:
        key = text.path[-1]
        if isinstance(key, str) and key and not key.isdigit() and key not in _PROTOCOL_IDS:
            return f"{key}: {text.text}"
    return text.text


def scan_arguments(arguments: Any) -> list[Finding]:
    """Secrets in a JSON value (a call's arguments, a whole outbound message): every string
    and every key, each value with its key as context (``secret_line``), scanned as one text.
    Raises ``ScanLimit`` for a value too large to scan whole.
    """
    return secrets.scan("\n".join(secret_line(t) for t in walk(arguments)))
