"""A learned signal: how much a text reads like an instruction to the AI.

A logistic regression over hashed features of the text as the rules read it (``normalise``'s
folding, lower-cased), cut into pieces of about 400 characters (``chunks``: an injection is a
few sentences in a long document). A piece's features are counts: each word, the byte 3- to
5-grams of each word, and each pair of neighbouring words, hashed into ``BUCKETS``; its margin
is ``bias + scale * sum(weight * count) / sqrt(total count)``, and a text scores as its highest
piece, ``sigmoid(max margin)``.

The weights are trained by ``ztmcp.detectors.train_model`` (deterministic, fixed seed; data,
method and licences in docs/detection.md) and shipped as ``learned.bin``: a magic line, a JSON
header line, the zlib-compressed int16 weights, and the SHA-256 of everything before it. A file
that is missing, truncated, altered or of another feature version raises
``LearnedModelError`` at its first use: the signal is never silently off.

Pure Python, no dependency: a per-word cache (summed weight, feature count, its halves of a
pair feature) makes a word seen before cost one lookup, and a piece's sums run in C (``map``,
``zip``); a text's score is kept under its digest (a server lists the same tools again).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import zlib
from array import array
from dataclasses import dataclass, field
from operator import xor
from pathlib import Path
from typing import Final

from ztmcp.detectors import normalise
from ztmcp.detectors.findings import RANK, Finding
from ztmcp.errors import ZtmcpError
from ztmcp.severity import Severity

FEATURE_VERSION: Final = 2
BITS: Final = 18
BUCKETS: Final = 1 << BITS
MAGIC: Final = b"ZTMCP-LEARNED-1\n"
WEIGHTS_FILE: Final = Path(__file__).with_name("learned.bin")

_MASK: Final = BUCKETS - 1
_WORD: Final = re.compile(r"\w+")
_NONSPACE: Final = re.compile(r"\S")
_GRAM_WORD: Final = 24  # character n-grams of a word's first 24 characters (ids, hashes, CJK)
_CACHE_SIZE: Final = 65536
_CACHE_WORD: Final = 64  # longer words are not cached: the cache's memory stays bounded
_MAX_FILE: Final = 1 << 20  # the weights file's bound (shipped: about 280 KB)
_PIECE: Final = 400  # characters of a piece (``chunks``)


class LearnedModelError(ZtmcpError):
    """The learned model's weights file is missing, damaged or of another version."""


def entry(word: str) -> tuple[int, tuple[int, ...]]:
    """A (lower-cased) word's 32-bit hash and its features: the word itself and the byte
    3- to 5-grams of its UTF-8, padded (``<word>``), of its first ``_GRAM_WORD`` characters."""
    crc, mask = zlib.crc32, _MASK
    raw = word.encode("utf-8", "surrogatepass")
    whole = crc(b"w " + raw)
    if len(word) > _GRAM_WORD:
        raw = word[:_GRAM_WORD].encode("utf-8", "surrogatepass")
    padded = b"<" + raw + b">"
    n = len(padded)
    out = [whole & mask]
    out += [crc(padded[i : i + 3]) & mask for i in range(n - 2)]
    out += [crc(padded[i : i + 4]) & mask for i in range(n - 3)]
    out += [crc(padded[i : i + 5]) & mask for i in range(n - 4)]
    return whole, tuple(out)


def _pair(a: int, b: int) -> int:
    """The feature of two neighbouring words, from their 32-bit hashes."""
    return ((a * 1000003) ^ b) & _MASK


def prepare(text: str) -> str:
    """The text as the features read it: folded as the rules fold it, lower-cased."""
    if normalise.needed(text):
        text = normalise.fold(text)
    return text.lower()


def chunks(text: str, size: int = _PIECE) -> list[str]:
    """``text`` cut into pieces of about ``size`` characters the model scores one by one: whole
    lines joined up to ``size``, a longer line cut at a space (or at ``size``). An injection is
    a few sentences in a long document; scored whole, the document would dilute it."""
    out: list[str] = []
    current: list[str] = []
    length = 0
    longest = size + size // 2
    for line in text.splitlines():
        if len(line) > longest:
            start = 0  # an index, not the rest sliced off: a long line costs linear time
            while len(line) - start > longest:
                cut = line.rfind(" ", start + size // 2, start + size)
                cut = cut if cut >= 0 else start + size
                if current:
                    out.append("\n".join(current))
                    current, length = [], 0
                out.append(line[start:cut])
                found = _NONSPACE.search(line, cut)  # what ``str.lstrip`` would keep
                start = found.start() if found else len(line)
            line = line[start:]
        if current and length + len(line) > size:
            out.append("\n".join(current))
            current, length = [], 0
        if line and not line.isspace():  # ``line.strip()``, without a copy
            current.append(line)
            length += len(line) + 1
    if current:
        out.append("\n".join(current))
    return out


def pieces(text: str) -> list[str]:
    """What the model scores of ``text``: its chunks, prepared (at least one, maybe empty)."""
    return chunks(prepare(text)) or [""]


def counts(piece: str) -> dict[int, int]:
    """The hashed feature counts of a prepared piece: every word's features, and a feature
    for each pair of neighbouring words. Its value in the model is count / sqrt(total)."""
    out: dict[int, int] = {}
    prev = -1
    for word in _WORD.findall(piece):
        whole, feats = entry(word)
        for f in feats:
            out[f] = out.get(f, 0) + 1
        if prev >= 0:
            f = _pair(prev, whole)
            out[f] = out.get(f, 0) + 1
        prev = whole
    return out


# What ``_WORD`` matches in ASCII text ([A-Za-z0-9_]: ``\w`` there) kept, every other byte a
# space: ``words`` splits ASCII text at C speed, with what ``_WORD.findall`` finds.
_ASCII_WORDS: Final = bytes(
    c if chr(c).isascii() and (chr(c).isalnum() or chr(c) == "_") else 0x20 for c in range(256)
)


def words(text: str) -> list[str]:
    """``_WORD.findall(text)``: for ASCII text, by a byte translation and ``split``."""
    if text.isascii():
        return text.encode("ascii").translate(_ASCII_WORDS).decode("ascii").split()
    return _WORD.findall(text)


_SCORE_CACHE_SIZE: Final = 8192  # scores kept, each under a 16-byte digest of its text


@dataclass(frozen=True, slots=True)
class Model:
    """Quantised weights: ``weights[i] * scale`` is feature ``i``'s weight."""

    weights: array[int]
    scale: float
    bias: float
    threshold: float
    meta: dict[str, object]
    # word -> (summed weight, feature count, its half of a pair feature as the first word,
    # as the second): ``_pair(a, b) == ((a * 1000003) & _MASK) ^ (b & _MASK)``
    cache: dict[str, tuple[int, int, int, int]] = field(default_factory=dict, compare=False)
    scores: dict[bytes, float] = field(default_factory=dict, compare=False)

    def margin(self, piece: str) -> float:
        """``bias + scale * sum(weights[f] * count) / sqrt(total count)`` over ``counts(piece)``,
        from a per-word cache: a word seen before costs a lookup, and the sums run in C
        (``map``, ``zip``), not in a loop per word. The sums are integers: summed in any
        order, the margin is the same float."""
        tokens = words(piece)
        if not tokens:
            return self.bias
        found = list(map(self.cache.get, tokens))
        try:
            summed, sizes, firsts, seconds = zip(*found, strict=True)
        except TypeError:  # a word not in the cache (its entry is None): cached once
            get, new = self.cache.get, self._word
            found = [f or get(word) or new(word) for f, word in zip(found, tokens, strict=True)]
            summed, sizes, firsts, seconds = zip(*found, strict=True)
        pairs = map(xor, firsts, seconds[1:])
        total: int = sum(summed) + sum(map(self.weights.__getitem__, pairs))
        n: int = sum(sizes) + len(tokens) - 1
        return self.bias + self.scale * total / math.sqrt(n)

    def _word(self, word: str) -> tuple[int, int, int, int]:
        """A word's cache entry (kept if the word is at most ``_CACHE_WORD`` characters)."""
        whole, feats = entry(word)
        summed = sum(map(self.weights.__getitem__, feats))
        found = (summed, len(feats), (whole * 1000003) & _MASK, whole & _MASK)
        if len(word) <= _CACHE_WORD:
            if len(self.cache) >= _CACHE_SIZE:
                self.cache.clear()
            self.cache[word] = found
        return found

    def margins(self, text: str) -> list[float]:
        """``[margin(p) for p in pieces(text)]``; a prepared text of at most one piece's size
        is its only piece's words (``chunks`` would only drop its blank lines)."""
        prepared = prepare(text)
        if len(prepared) <= _PIECE:
            return [self.margin(prepared)]
        return [self.margin(p) for p in chunks(prepared)] or [self.bias]

    def score(self, text: str) -> float:
        """The probability-like score in [0, 1] that ``text`` is an instruction to the AI: the
        highest of its pieces' (``pieces``). Kept for ``_SCORE_CACHE_SIZE`` texts under their
        BLAKE2b digest (``_digest``): a server lists the same definitions again."""
        key = _digest(text)
        found = self.scores.get(key)
        if found is None:
            found = _sigmoid(max(self.margins(text)))
            if len(self.scores) >= _SCORE_CACHE_SIZE:
                self.scores.clear()
            self.scores[key] = found
        return found


def _digest(text: str) -> bytes:
    """A text's key in the score cache: 128 bits of BLAKE2b, so that the cache holds no text
    (its memory is bounded by its count alone); two texts with one key would take about 2^64
    hashes to find, one with the key of a given text about 2^128."""
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()


def _sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def encode(weights: list[float], bias: float, threshold: float, meta: dict[str, object]) -> bytes:
    """The weights file for ``weights`` (one float per bucket): int16-quantised, compressed,
    followed by its SHA-256."""
    if len(weights) != BUCKETS:
        raise ValueError(f"expected {BUCKETS} weights, got {len(weights)}")
    peak = max((abs(w) for w in weights), default=0.0) or 1.0
    scale = peak / 32767
    quantised = array("h", (round(w / scale) for w in weights))
    if quantised.itemsize != 2:  # pragma: no cover - every CPython platform has 16-bit "h"
        raise ValueError("int16 array expected")
    header = {
        "feature_version": FEATURE_VERSION,
        "bits": BITS,
        "scale": scale,
        "bias": bias,
        "threshold": threshold,
        **meta,
    }
    raw = quantised.tobytes() if _little() else _swapped(quantised).tobytes()
    body = MAGIC + json.dumps(header, sort_keys=True).encode() + b"\n" + zlib.compress(raw, 9)
    return body + hashlib.sha256(body).digest()


def decode(data: bytes, *, where: str = "the learned model's weights") -> Model:
    """A ``Model`` from a weights file's bytes; ``LearnedModelError`` if anything is off."""
    hint = "reinstall ztmcp (or rebuild it: python -m ztmcp.detectors.train_model)"
    if not len(MAGIC) + 32 <= len(data) <= _MAX_FILE or not data.startswith(MAGIC):
        raise LearnedModelError(f"{where} are not a ztmcp weights file", hint=hint)
    body, digest = data[:-32], data[-32:]
    if hashlib.sha256(body).digest() != digest:
        raise LearnedModelError(f"{where} are damaged (checksum mismatch)", hint=hint)
    try:
        line_end = body.index(b"\n", len(MAGIC))
        header = json.loads(body[len(MAGIC) : line_end])
        inflate = zlib.decompressobj()
        raw = inflate.decompress(body[line_end + 1 :], 2 * BUCKETS + 1)  # no bomb inflates
        if not inflate.eof:
            raise ValueError("compressed weights incomplete or too long")
        weights = array("h")
        weights.frombytes(raw)
        if not _little():
            weights = _swapped(weights)
        scale = float(header["scale"])
        bias = float(header["bias"])
        threshold = float(header["threshold"])
        version = header["feature_version"]
        bits = header["bits"]
    except (ValueError, KeyError, TypeError, OverflowError, RecursionError, zlib.error) as exc:
        raise LearnedModelError(f"{where} cannot be read ({exc})", hint=hint) from None
    if version != FEATURE_VERSION or bits != BITS or len(weights) != BUCKETS:
        raise LearnedModelError(
            f"{where} are for another feature version ({version}, {bits} bits)", hint=hint
        )
    finite = all(math.isfinite(v) for v in (scale, bias, threshold))
    if not finite or scale <= 0 or not 0 < threshold < 1:
        raise LearnedModelError(f"{where} have an invalid header", hint=hint)
    return Model(weights, scale, bias, threshold, dict(header))


def _little() -> bool:
    import sys

    return sys.byteorder == "little"


def _swapped(values: array[int]) -> array[int]:
    out = array("h", values)
    out.byteswap()
    return out


def load(path: Path | None = None) -> Model:
    """The model in ``path`` (default ``WEIGHTS_FILE``); ``LearnedModelError`` if it is missing
    or damaged."""
    path = WEIGHTS_FILE if path is None else path
    try:
        with path.open("rb") as fh:
            data = fh.read(_MAX_FILE + 1)  # a larger file is refused by ``decode``
    except OSError as exc:
        raise LearnedModelError(
            f"the learned model's weights cannot be read: {exc.strerror or exc}",
            hint="reinstall ztmcp",
        ) from None
    return decode(data, where=f"the learned model's weights ({path.name})")


_model: Model | None = None


def model() -> Model:
    """The shipped model, loaded once (on first use: ``ztmcp run`` start-up never pays)."""
    global _model
    if _model is None:
        _model = load()
    return _model


# -- the signal, as findings ------------------------------------------------------------------
RULE: Final = "instr.learned"
_WINDOW: Final = 300  # characters either side of a weak finding that the model reads
_MAX_WINDOWS: Final = 8  # weak findings looked at per text (a limit: more are not scored)


def _message(score: float, extra: str = "") -> str:
    shown = min(0.99, math.floor(score * 100) / 100)  # a score is never certainty
    return f"reads like an instruction to the AI (learned score {shown:.2f}){extra}"


def definition_finding(text: str) -> Finding | None:
    """A MEDIUM finding when a definition (its strings one per line) scores at or above the
    model's threshold: a weak signal alone; with a MEDIUM rule in the same definition,
    ``scan_definition``'s escalation makes it HIGH."""
    m = model()
    score = m.score(text)
    if score < m.threshold:
        return None
    return Finding(RULE, Severity.MEDIUM, 0, 0, _message(score))


def windows(text: str, findings: list[Finding]) -> list[tuple[Finding, int, int]]:
    """Where the model reads content: the lines around each MEDIUM instruction finding (at
    most ``_WINDOW`` characters either side, whole lines, at most twice that), when nothing in
    ``findings`` blocks already. Empty for text with no weak signal: such text never pays."""
    weak = [
        f
        for f in findings
        if f.severity is Severity.MEDIUM
        and f.rule.startswith("instr.")
        and not f.message.endswith("(encoded)")
    ]
    if not weak or any(RANK[f.severity] >= RANK[Severity.HIGH] for f in findings):
        return []
    out: list[tuple[Finding, int, int]] = []
    for f in sorted(weak, key=lambda f: f.start)[:_MAX_WINDOWS]:
        if out and f.start < out[-1][2]:
            continue  # already inside the previous window
        lo = text.rfind("\n", 0, max(0, f.start - _WINDOW)) + 1
        hi = text.find("\n", min(len(text), f.end + _WINDOW))
        hi = len(text) if hi < 0 else hi
        out.append((f, max(lo, f.start - 2 * _WINDOW), min(hi, f.end + 2 * _WINDOW)))
    return out


def content_findings(text: str, findings: list[Finding]) -> list[Finding]:
    """HIGH findings where the model scores the text around a MEDIUM instruction finding at or
    above its threshold: the model and a rule agree (combined evidence).

    Measured, not switched on: ``scan_content`` does not call it, since on the red team's
    held-out half it blocked benign look-alikes and caught nothing the rules missed
    (docs/detection.md). ``train_model``'s "rules + model" column for results measures it."""
    spots = windows(text, findings)
    if not spots:
        return []
    m = model()
    out: list[Finding] = []
    for f, lo, hi in spots:
        score = m.score(text[lo:hi])
        if score >= m.threshold:
            out.append(
                Finding(
                    RULE, Severity.HIGH, lo, hi, _message(score, f"; a rule agrees: {f.message}")
                )
            )
    return out
