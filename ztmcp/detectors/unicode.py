"""Hidden content: text a human reviewer does not see but a model reads.

Rules (rule id — severity — why):

- ``unicode.tag_chars`` — CRITICAL — Unicode tag characters (U+E0000…U+E007F) spell ASCII that
  renders as nothing ("ASCII smuggling"); no legitimate tool text uses them.
- ``unicode.invisible`` — HIGH for a run of 4+ or 16+ in total, MEDIUM for 2+, LOW for one —
  zero-width spaces/joiners, word joiners, invisible operators, BOM inside text, Hangul
  fillers. A single ZWJ between emoji is normal and skipped.
- ``unicode.bidi_override`` — HIGH — RLO/LRO/embeddings and isolates reorder what is displayed
  ("Trojan Source"); plain RTL text uses the marks U+200E/U+200F, which are not flagged.
- ``unicode.ansi_escape`` — HIGH — terminal escapes can hide, overwrite or recolour text in a
  console or log viewer.
- ``unicode.control`` — MEDIUM — other C0 controls (not tab/newline/CR).
- ``unicode.html_comment`` — MEDIUM — text inside ``<!-- -->`` is invisible once rendered;
  web pages carry comments, and so do descriptions (a version note, a TODO). What a comment
  says is judged by the instruction rules; with another weak signal in the same definition it
  blocks (``scan_definition``'s escalation).
- ``unicode.hidden_markup`` — HIGH in a description, MEDIUM in content — CSS that hides text
  (``display:none``, ``visibility:hidden``, zero font size or opacity, transparent colour).
- ``unicode.encoded_text`` — MEDIUM — a base64 (from 20 characters), base32, hex, ASCII85 or
  percent-encoded blob that decodes to readable text, gzip and up to three layers undone; the
  decoded text is returned by ``decoded_blobs`` so callers can scan it for instructions.
- Tag characters of an emoji tag sequence (a subdivision flag: U+1F3F4, a region code, CANCEL
  TAG) are an emoji, not smuggling.

Every regex is a character class run or a bounded repetition: linear in the input.
"""

from __future__ import annotations

import base64
import binascii
import re
import zlib
from collections.abc import Iterator
from functools import cache
from itertools import islice
from typing import Final

from ztmcp.detectors import multi, runs
from ztmcp.detectors.findings import Finding
from ztmcp.detectors.lazyre import LazyPattern
from ztmcp.severity import Severity

_TAGS: Final = LazyPattern("[\U000e0000-\U000e007f]+")
_INVISIBLE: Final = LazyPattern(
    "[\u200b\u200c\u200d\u2060-\u2064\ufeff\u180e\u034f\u115f\u1160\u17b4\u17b5\u3164\uffa0]+"
)
_BIDI: Final = LazyPattern("[\u202a-\u202e\u2066-\u2069]+")
_ANSI: Final = LazyPattern(
    r"\x1b(?:\[[0-?]{0,32}[ -/]{0,8}[@-~]|\][^\x07\x1b]{0,4096}(?:\x07|\x1b\\)?|[@-Z\\-_])"
)
_CSS_PARTS: Final = (
    r"display\s{0,3}:\s{0,3}none",
    r"visibility\s{0,3}:\s{0,3}hidden",
    r"font-size\s{0,3}:\s{0,3}0(?:\.0+)?(?:px|pt|em|rem|%)?(?![\d.])",
    r"opacity\s{0,3}:\s{0,3}0(?:\.0+)?(?![\d.])",
    r"color\s{0,3}:\s{0,3}transparent",
)
_HIDDEN_CSS: Final = LazyPattern("|".join(_CSS_PARTS), re.IGNORECASE)
# The same, one literal-prefixed regex each, for lower-cased text (a substring search apiece).
_HIDDEN_CSS_LOW: Final = tuple(LazyPattern(p) for p in _CSS_PARTS)
# The literal word each of them starts with: a lower-cased text without it has no match of
# that part (tests/detectors/test_unicode.py checks every part starts with its word).
_CSS_WORDS: Final = tuple(p[: p.index("\\")] for p in _CSS_PARTS)
# Reference shapes of the blobs; ``decoded_blobs`` finds the same runs with ``runs``.
_BASE64: Final = LazyPattern(r"(?<![A-Za-z0-9+/_-])[A-Za-z0-9+/_-]{20,}={0,6}")
_HEX: Final = LazyPattern(r"(?<![0-9A-Fa-f])(?:[0-9A-Fa-f]{2}){16,}(?![0-9A-Fa-f])")
_B64_CHARS: Final = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/_-"
_B64_CLASS: Final = runs.table(_B64_CHARS)
_B64_CLASS_EQ: Final = _B64_CLASS[:61] + b"e" + _B64_CLASS[62:]  # '=' (61) marked 'e'
_CONTROL_CLASS: Final = runs.table(
    [
        chr(i)
        for i in (*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x1B), *range(0x1C, 0x20), 0x7F)
    ],
    mark="c",
)
_NOT_PRINTABLE: Final = LazyPattern(r"[^\x20-\x7e\t\n\r]")
_LETTER: Final = LazyPattern(r"[^\W\d_]")
_WORD: Final = LazyPattern(r"[A-Za-z]{3,}")

_UNTAG: Final = {0xE0000 + i: i for i in range(128)}
_EMOJI_LO: Final = 0x2190  # arrows, symbols, dingbats, emoji: a ZWJ between these is legitimate
_MAX_DECODE: Final = 8192
_MAX_BLOBS: Final = 64

DESCRIPTION: Final = "description"
CONTENT: Final = "content"


def _is_symbol(ch: str) -> bool:
    return ord(ch) >= _EMOJI_LO and not ch.isalnum()


def _readable(raw: bytes) -> str | None:
    """Decoded bytes as text when they look like prose or commands (in any script), else None."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if len(text) < 12:
        return None
    printable = len(text) - len(_NOT_PRINTABLE.findall(text))
    if text.isascii():
        if printable / len(text) < 0.95 or " " not in text:
            return None
        if sum(1 for _ in islice(_WORD.finditer(text), 3)) < 3:
            return None
        return text
    # Other scripts: printable, and mostly letters (CJK prose has no spaces).
    shown = sum(1 for c in text if c.isprintable() or c in "\n\t")
    letters = len(_LETTER.findall(text))
    return text if shown / len(text) >= 0.95 and letters >= max(6, len(text) // 3) else None


_MAX_DEPTH: Final = 3  # layers of encoding undone (base64 of gzip of base64 …)
_MIN_B64: Final = 20  # base64 of 15 bytes: a short instruction ("Ignore all rules")
_B32: Final = LazyPattern(r"[A-Z2-7]{16,}=*")
_A85: Final = LazyPattern(r"<~([!-u\sz]{10,}?)~>")
_URL_CLASS: Final = runs.table(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._~+%-"
)
_PERCENT: Final = LazyPattern(r"%[0-9A-Fa-f]{2}")


def _layer(raw: bytes, depth: int) -> str | None:
    """What ``raw`` (one decoded layer) says: text, or the text of the encodings inside it."""
    if raw[:2] == b"\x1f\x8b":  # gzip: decompress, bounded
        try:
            raw = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(raw, _MAX_DECODE)
        except zlib.error:
            return None
    text = _readable(raw)
    if text is not None or depth >= _MAX_DEPTH or not raw.isascii():
        return text
    inner = [d for _s, _e, d in _blobs(raw.decode("ascii"), depth + 1)]
    return "\n".join(inner) if inner else None


def decoded_blobs(text: str) -> Iterator[tuple[int, int, str]]:
    """(start, end, decoded text) for each encoded blob in ``text`` that decodes to prose.

    Blobs: base64 (standard or URL-safe, 20 characters or more), base32, hex, ASCII85 between
    ``<~ ~>`` and percent-encoding; a layer that decodes to gzip or to another encoding is
    undone too, up to ``_MAX_DEPTH`` layers, each bounded by ``_MAX_DECODE`` bytes. Base64 and
    base32 blobs are found from the runs of base64 characters (every hex and base32 run lies
    inside one) instead of trying the regexes at every offset.
    """
    return _blobs(text, 0)


def _blobs(text: str, depth: int) -> Iterator[tuple[int, int, str]]:
    count = 0
    if len(text) >= _MIN_B64:
        cls = runs.classes(text, _B64_CLASS_EQ)
        wide: list[tuple[int, int]] = []
        for start, end in runs.runs(cls, "a", _MIN_B64):
            if end - start >= 32:
                wide.append((start, end))
            stop = end
            while stop < len(cls) and stop - end < 6 and cls[stop] == 0x65:
                stop += 1
            blob = text[start:stop][:_MAX_DECODE]
            decoded = _run(blob, depth) if len(blob) > _KEEP_RUN else _short_run(blob, depth)
            if decoded is not None:
                yield start, stop, decoded
                count += 1
                if count >= _MAX_BLOBS:
                    return
        for lo, hi in wide:
            for match in _HEX.finditer(text, lo, hi):
                try:
                    raw = bytes.fromhex(match.group()[:_MAX_DECODE])
                except ValueError:
                    continue
                decoded = _layer(raw, depth)
                if decoded is not None:
                    yield match.start(), match.end(), decoded
                    count += 1
                    if count >= _MAX_BLOBS:
                        return
    if "<~" in text:
        for match in _A85.finditer(text):
            try:
                raw = base64.a85decode(match.group(1)[:_MAX_DECODE].encode("ascii"))
            except (ValueError, UnicodeEncodeError):
                continue
            decoded = _layer(raw, depth)
            if decoded is not None:
                yield match.start(), match.end(), decoded
    if "%" in text:  # percent-encoding: runs of URL characters with 4 escapes or more
        for start, end in runs.runs(runs.classes(text, _URL_CLASS), "a", 12):
            run = text[start:end][:_MAX_DECODE]
            if run.count("%") < 4 or len(_PERCENT.findall(run)) < 4:
                continue
            from urllib.parse import unquote_to_bytes  # here: most texts have no such run

            decoded = _layer(unquote_to_bytes(run.replace("+", " ")), depth)
            if decoded is not None:
                yield start, end, decoded


def _run(blob: str, depth: int) -> str | None:
    """What a run of base64 characters decodes to, as base64 or else base32, or None."""
    decoded = _base64(blob, depth)
    if decoded is None and _B32.fullmatch(blob):
        decoded = _base32(blob, depth)
    return decoded


# Short runs recur (a schema's ``additionalProperties`` is one, in most tools of a list): the
# runs of at most ``_KEEP_RUN`` characters that decode to nothing readable are kept, at most
# ``_KEEP_RUNS`` of them (only the run: a decoding, which gzip can make 8 KB, is never kept).
_KEEP_RUN: Final = 64
_KEEP_RUNS: Final = 4096
_UNREADABLE: Final[set[tuple[str, int]]] = set()


def _short_run(blob: str, depth: int) -> str | None:
    """``_run`` for a short run, remembering the runs that decode to nothing."""
    key = (blob, depth)
    if key in _UNREADABLE:
        return None
    decoded = _run(blob, depth)
    if decoded is None:
        if len(_UNREADABLE) >= _KEEP_RUNS:
            _UNREADABLE.clear()
        _UNREADABLE.add(key)
    return decoded


def _base64(blob: str, depth: int) -> str | None:
    if len(blob.rstrip("=")) % 4 == 1:
        return None
    padded = blob.replace("-", "+").replace("_", "/").rstrip("=")
    padded += "=" * (-len(padded) % 4)
    try:
        raw = base64.b64decode(padded, validate=True)
    except (binascii.Error, ValueError):
        return None
    return _layer(raw, depth)


def _base32(blob: str, depth: int) -> str | None:
    body = blob.rstrip("=")
    try:
        raw = base64.b32decode(body + "=" * (-len(body) % 8))
    except (binascii.Error, ValueError):
        return None
    return _layer(raw, depth)


_FLAG_TAGS: Final = LazyPattern("[\U000e0030-\U000e0039\U000e0061-\U000e007a]{2,7}\U000e007f")


def _emoji_tag_sequence(text: str, start: int, end: int) -> bool:
    """``text[start:end]`` is the tag part of an emoji tag sequence: after U+1F3F4 (waving
    black flag), lower-case letters and digits of a region code, then CANCEL TAG (UTS #51)."""
    return (
        start > 0
        and text[start - 1] == "\U0001f3f4"
        and _FLAG_TAGS.fullmatch(text, start, end) is not None
    )


def _html_comments(text: str) -> Iterator[tuple[int, int]]:
    """Spans of ``<!-- … -->`` holding letters; found with str.find, so linear."""
    pos = 0
    while True:
        start = text.find("<!--", pos)
        if start < 0:
            return
        end = text.find("-->", start + 4)
        stop = len(text) if end < 0 else end + 3
        body = text[start + 4 : stop - 3 if end >= 0 else stop]
        if _LETTER.search(body):
            yield start, stop
        if end < 0:
            return
        pos = stop


def scan(
    text: str, profile: str = CONTENT, blobs: list[tuple[int, int, str]] | None = None
) -> list[Finding]:
    """Findings for hidden content in ``text``; ``profile`` is DESCRIPTION or CONTENT.

    ``blobs`` is ``list(decoded_blobs(text))`` when the caller already has it.
    """
    findings: list[Finding] = []
    strict = profile == DESCRIPTION
    if not text.isascii():
        for m in _TAGS.finditer(text):
            if _emoji_tag_sequence(text, m.start(), m.end()):
                continue  # a subdivision flag (England, Scotland, Wales): an emoji, not text
            findings.append(
                Finding(
                    "unicode.tag_chars",
                    Severity.CRITICAL,
                    m.start(),
                    m.end(),
                    "invisible Unicode tag characters (hidden ASCII text)",
                )
            )
        total = 0
        spans: list[tuple[int, int]] = []
        for m in _INVISIBLE.finditer(text):
            s, e = m.start(), m.end()
            if (
                e - s == 1
                and text[s] == "\u200d"
                and s > 0
                and e < len(text)
                and _is_symbol(text[s - 1])
                and _is_symbol(text[e])
            ):
                continue  # an emoji ZWJ sequence
            if s == 0 and text[s] == "\ufeff" and e == 1:
                continue  # a byte-order mark at the very start
            total += e - s
            spans.append((s, e))
        for s, e in spans:
            # A stray ZWSP is common in CJK-origin docs; smuggling needs many (bit encodings)
            # and keyword splitting is undone by ``reveal`` before the instruction scan.
            severity = (
                Severity.HIGH
                if (e - s >= 4 or total >= 16)
                else Severity.MEDIUM
                if total >= 2
                else Severity.LOW
            )
            findings.append(
                Finding(
                    "unicode.invisible",
                    severity,
                    s,
                    e,
                    f"{e - s} invisible zero-width character(s)",
                )
            )
        for m in _BIDI.finditer(text):
            findings.append(
                Finding(
                    "unicode.bidi_override",
                    Severity.HIGH,
                    m.start(),
                    m.end(),
                    "bidirectional override/isolate characters reorder text",
                )
            )
    if "\x1b" in text:
        for m in _ANSI.finditer(text):
            findings.append(
                Finding(
                    "unicode.ansi_escape",
                    Severity.HIGH,
                    m.start(),
                    m.end(),
                    "terminal escape sequence",
                )
            )
    for s, e in runs.runs(runs.classes(text, _CONTROL_CLASS), "c", 1):
        findings.append(Finding("unicode.control", Severity.MEDIUM, s, e, "control characters"))
    hidden = Severity.HIGH if strict else Severity.MEDIUM
    if "<!--" in text:
        for s, e in _html_comments(text):
            findings.append(
                Finding(
                    "unicode.html_comment",
                    Severity.MEDIUM,
                    s,
                    e,
                    "text inside an HTML comment (not rendered)",
                )
            )
    for s, e in _hidden_css(text):
        findings.append(
            Finding("unicode.hidden_markup", hidden, s, e, "markup that hides text from view")
        )
    for s, e, _decoded in decoded_blobs(text) if blobs is None else blobs:
        findings.append(
            Finding(
                "unicode.encoded_text",
                Severity.MEDIUM,
                s,
                e,
                "an encoded blob that decodes to readable text",
            )
        )
    return findings


def _hidden_css(text: str) -> list[tuple[int, int]]:
    low = text.lower()
    # Case-insensitive matching also folds the dotless i and the long s onto ASCII letters.
    if len(low) != len(text) or (not low.isascii() and ("\u0131" in low or "\u017f" in low)):
        return [m.span() for m in _HIDDEN_CSS.finditer(text)]
    if ":" not in low:
        return []
    present = _css_present(low) if len(low) > _CSS_SET_MIN else None
    return sorted(
        m.span()
        for i, rx in enumerate(_HIDDEN_CSS_LOW)
        if (present is None or i in present) and _CSS_WORDS[i] in low
        for m in rx.finditer(low)
    )


_CSS_SET_MIN: Final = 4096


@cache
def _css_set() -> multi.RegexSet:
    return multi.RegexSet([multi.loosen(p) for p in _CSS_PARTS])


def _css_present(low: str) -> frozenset[int] | None:
    """Which hiding rules occur in a long page (one RE2 pass), or None: search them all."""
    rset = _css_set()
    view = multi.ascii_view(low) if rset.available else None
    return None if view is None else rset.matching(view)


def gate_patterns() -> list[str]:
    """Regexes (``re`` syntax, ``detectors.gate``) one of which matches a plain ASCII text (no
    control character) or its lower case wherever ``scan`` or ``decoded_blobs`` finds anything
    in it: a run of base64 characters as long as the shortest blob (every base64, base32 and
    hex blob lies in one), ``<~`` (ASCII85), ``%`` (percent-encoding), ``<!--`` and the hiding
    CSS (searched in the lower case). Tag, invisible and bidi characters are not ASCII, and
    ANSI escapes and other controls not plain: the gate vouches for no such text."""
    return [
        runs.pattern(_B64_CHARS, _MIN_B64),
        re.escape("<~"),
        re.escape("%"),
        re.escape("<!--"),
        *_CSS_PARTS,
    ]


def compile_sets() -> None:
    """Build the automaton now (``warm_up``) rather than on the first long page."""
    _css_set()


def reveal(text: str) -> str:
    """``text`` with tag characters decoded to ASCII and other invisibles removed.

    Scanning the revealed text finds instructions that were smuggled in tag characters or split
    by zero-width characters to dodge keyword rules.
    """
    if text.isascii():
        return text
    text = _TAGS.sub(lambda m: m.group().translate(_UNTAG), text)
    text = _INVISIBLE.sub("", text)
    return _BIDI.sub("", text)
