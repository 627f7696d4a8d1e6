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
- ``unicode.html_comment`` — HIGH in a description, MEDIUM in content — text inside ``<!-- -->``
  is invisible once rendered; web pages carry comments, descriptions have no reason to.
- ``unicode.hidden_markup`` — HIGH in a description, MEDIUM in content — CSS that hides text
  (``display:none``, ``visibility:hidden``, zero font size or opacity, transparent colour).
- ``unicode.encoded_text`` — MEDIUM — a base64 or hex blob that decodes to readable text; the
  decoded text is returned by ``decoded_blobs`` so callers can scan it for instructions.

Every regex is a character class run or a bounded repetition: linear in the input.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator
from typing import Final

from ztmcp.checks.base import Severity
from ztmcp.detectors.findings import Finding

_TAGS: Final = re.compile("[\U000e0000-\U000e007f]+")
_INVISIBLE: Final = re.compile(
    "[\u200b\u200c\u200d\u2060-\u2064\ufeff\u180e\u034f\u115f\u1160\u17b4\u17b5\u3164\uffa0]+"
)
_BIDI: Final = re.compile("[\u202a-\u202e\u2066-\u2069]+")
_ANSI: Final = re.compile(
    r"\x1b(?:\[[0-?]{0,32}[ -/]{0,8}[@-~]|\][^\x07\x1b]{0,4096}(?:\x07|\x1b\\)?|[@-Z\\-_])"
)
_CONTROL: Final = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1a\x1c-\x1f\x7f]+")
_HIDDEN_CSS: Final = re.compile(
    r"(?:display\s{0,3}:\s{0,3}none|visibility\s{0,3}:\s{0,3}hidden"
    r"|font-size\s{0,3}:\s{0,3}0(?:\.0+)?(?:px|pt|em|rem|%)?(?![\d.])"
    r"|opacity\s{0,3}:\s{0,3}0(?:\.0+)?(?![\d.])|color\s{0,3}:\s{0,3}transparent)",
    re.IGNORECASE,
)
# Runs are anchored at a run start (the look-behind), so each run is scanned once.
_BASE64: Final = re.compile(r"(?<![A-Za-z0-9+/=_-])[A-Za-z0-9+/_-]{40,}={0,2}")
_HEX: Final = re.compile(r"(?<![0-9A-Fa-f])(?:[0-9A-Fa-f]{2}){24,}(?![0-9A-Fa-f])")
_PRINTABLE: Final = re.compile(r"[\x20-\x7e\t\n\r]")
_WORD: Final = re.compile(r"[A-Za-z]{3,}")

_EMOJI_LO: Final = 0x2190  # arrows, symbols, dingbats, emoji: a ZWJ between these is legitimate
_MAX_DECODE: Final = 8192
_MAX_BLOBS: Final = 64

DESCRIPTION: Final = "description"
CONTENT: Final = "content"


def _is_symbol(ch: str) -> bool:
    return ord(ch) >= _EMOJI_LO and not ch.isalnum()


def _readable(raw: bytes) -> str | None:
    """Decoded bytes as text when they look like prose or commands, else None."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if len(text) < 16:
        return None
    printable = len(_PRINTABLE.findall(text))
    if printable / len(text) < 0.95 or " " not in text:
        return None
    if len(_WORD.findall(text)) < 3:
        return None
    return text


def decoded_blobs(text: str) -> Iterator[tuple[int, int, str]]:
    """(start, end, decoded text) for each base64/hex blob in ``text`` that decodes to prose."""
    count = 0
    for match in _BASE64.finditer(text):
        blob = match.group()[:_MAX_DECODE]
        padded = blob.replace("-", "+").replace("_", "/")
        padded += "=" * (-len(padded) % 4)
        try:
            raw = base64.b64decode(padded, validate=True)
        except (binascii.Error, ValueError):
            continue
        decoded = _readable(raw)
        if decoded is not None:
            yield match.start(), match.end(), decoded
            count += 1
            if count >= _MAX_BLOBS:
                return
    for match in _HEX.finditer(text):
        try:
            raw = bytes.fromhex(match.group()[:_MAX_DECODE])
        except ValueError:
            continue
        decoded = _readable(raw)
        if decoded is not None:
            yield match.start(), match.end(), decoded
            count += 1
            if count >= _MAX_BLOBS:
                return


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
        if any(ch.isalpha() for ch in body):
            yield start, stop
        if end < 0:
            return
        pos = stop


def scan(text: str, profile: str = CONTENT) -> list[Finding]:
    """Findings for hidden content in ``text``; ``profile`` is DESCRIPTION or CONTENT."""
    findings: list[Finding] = []
    strict = profile == DESCRIPTION
    if not text.isascii():
        for m in _TAGS.finditer(text):
            findings.append(Finding("unicode.tag_chars", Severity.CRITICAL, m.start(), m.end(),
                                    "invisible Unicode tag characters (hidden ASCII text)"))
        total = 0
        spans: list[tuple[int, int]] = []
        for m in _INVISIBLE.finditer(text):
            s, e = m.start(), m.end()
            if e - s == 1 and text[s] == "\u200d" and s > 0 and e < len(text) \
                    and _is_symbol(text[s - 1]) and _is_symbol(text[e]):
                continue  # an emoji ZWJ sequence
            if s == 0 and text[s] == "\ufeff" and e == 1:
                continue  # a byte-order mark at the very start
            total += e - s
            spans.append((s, e))
        for s, e in spans:
            # A stray ZWSP is common in CJK-origin docs; smuggling needs many (bit encodings)
            # and keyword splitting is undone by ``reveal`` before the instruction scan.
            severity = (Severity.HIGH if (e - s >= 4 or total >= 16)
                        else Severity.MEDIUM if total >= 2 else Severity.LOW)
            findings.append(Finding("unicode.invisible", severity, s, e,
                                    f"{e - s} invisible zero-width character(s)"))
        for m in _BIDI.finditer(text):
            findings.append(Finding("unicode.bidi_override", Severity.HIGH, m.start(), m.end(),
                                    "bidirectional override/isolate characters reorder text"))
    if "\x1b" in text:
        for m in _ANSI.finditer(text):
            findings.append(Finding("unicode.ansi_escape", Severity.HIGH, m.start(), m.end(),
                                    "terminal escape sequence"))
    for m in _CONTROL.finditer(text):
        if text[m.start()] == "\x1b":
            continue
        findings.append(Finding("unicode.control", Severity.MEDIUM, m.start(), m.end(),
                                "control characters"))
    hidden = Severity.HIGH if strict else Severity.MEDIUM
    if "<!--" in text:
        for s, e in _html_comments(text):
            findings.append(Finding("unicode.html_comment", hidden, s, e,
                                    "text inside an HTML comment (not rendered)"))
    for m in _HIDDEN_CSS.finditer(text):
        findings.append(Finding("unicode.hidden_markup", hidden, m.start(), m.end(),
                                "markup that hides text from view"))
    for s, e, _decoded in decoded_blobs(text):
        findings.append(Finding("unicode.encoded_text", Severity.MEDIUM, s, e,
                                "an encoded blob that decodes to readable text"))
    return findings


def reveal(text: str) -> str:
    """``text`` with tag characters decoded to ASCII and other invisibles removed.

    Scanning the revealed text finds instructions that were smuggled in tag characters or split
    by zero-width characters to dodge keyword rules.
    """
    if text.isascii():
        return text
    text = _TAGS.sub(lambda m: "".join(chr(ord(c) - 0xE0000) for c in m.group()), text)
    text = _INVISIBLE.sub("", text)
    return _BIDI.sub("", text)
