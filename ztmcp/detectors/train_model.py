"""Train and evaluate the learned signal (``ztmcp.detectors.learned``); deterministic.

    python -m ztmcp.detectors.train_model --dev ../shared/eval/dev            # writes learned.bin
    python -m ztmcp.detectors.train_model --dev ../shared/eval/dev --loso     # the LOSO table
    python -m ztmcp.detectors.train_model --dev … --heldout tests/detectors/evasion_heldout.jsonl

Training data: the dev corpora's tool descriptions and tool results (read from where they
are, never copied), the evasion corpus and the red team's tuned half
(``tests/detectors/evasion.jsonl``, ``evasion_redteam.jsonl``). The red team's held-out half
is only ever scored, as totals (``--heldout``); a path with "heldout" or "sealed" in it is
refused as training data.

Method: logistic regression on ``learned``'s hashed feature counts of each piece of a text,
trained as it is used (a text scores as its highest piece): multiple-instance learning, every
piece of a benign sample a negative, a malicious sample one positive (its highest-scoring
piece; all its pieces in the first epoch). AdaGrad over shuffled pieces
(``random.Random(seed)``), samples weighted so that each class weighs the same and, within a
class, a source of n samples weighs like sqrt(n) samples (MSB's 35 copies of one template
must not be what the model learns). Same data and seed, same bytes.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from ztmcp.detectors import _content_rules, _definition_rules, learned
from ztmcp.detectors.findings import RANK, Finding
from ztmcp.severity import Severity

SEED: Final = 23
EPOCHS: Final = 12
RATE: Final = 0.5
L2: Final = 1e-5
THRESHOLD: Final = 0.9
_TESTS: Final = Path(__file__).resolve().parents[2] / "tests" / "detectors"
BUILT: Final = (_TESTS / "evasion.jsonl", _TESTS / "evasion_redteam.jsonl")
DEV_FILES: Final = ("tool_descriptions.jsonl", "tool_results.jsonl")
KINDS: Final = ("tool_description", "tool_result")


@dataclass(frozen=True, slots=True)
class Sample:
    kind: str
    malicious: bool
    source: str
    attack: str
    group: str
    chunks: tuple[Vector, ...]
    rules_block: bool  # the rules alone block it
    medium: int  # distinct MEDIUM rules (descriptions)
    windows: tuple[tuple[Vector, ...], ...]  # content: the chunks of each window


Vector = tuple[tuple[int, int], ...]  # (feature, count), sorted


def _chunked(text: str) -> tuple[Vector, ...]:
    return tuple(tuple(sorted(learned.counts(p).items())) for p in learned.pieces(text))


def _blocks(findings: Sequence[Finding]) -> bool:
    return any(RANK[f.severity] >= RANK[Severity.HIGH] for f in findings)


def sample(row: Mapping[str, Any], origin: str) -> Sample:
    """A row as the detectors see it: the text the model reads, and what the rules find."""
    windows: tuple[tuple[Vector, ...], ...] = ()
    if row["kind"] == "tool_description":
        findings, text = _definition_rules(row["tool"])
        medium = len({f.rule for f in findings if f.severity is Severity.MEDIUM})
        block = _blocks(findings) or medium >= 2
    else:
        findings, text = _content_rules(str(row["text"]))
        medium = 0
        block = _blocks(findings)
        windows = tuple(_chunked(text[lo:hi]) for _f, lo, hi in learned.windows(text, findings))
    return Sample(
        row["kind"],
        row["label"] == "malicious",
        str(row.get("source", "")),
        str(row.get("attack_type") or "").split(":")[-1],
        _group(row, origin),
        _chunked(text),
        block,
        medium,
        windows,
    )


def _group(row: Mapping[str, Any], origin: str) -> str:
    """The source family a row is held out with in the LOSO table."""
    source = str(row.get("source", ""))
    if origin != "dev":
        return f"built: {origin}"
    if row["kind"] == "tool_description":
        if "prompt_injection template" in source:
            return "MSB prompt-injection template"
        if "Terminal_Controller" in source:
            return "MSB terminal_controller variants"
        if "damn-vulnerable" in source:
            return "DVMCP"
        if source.startswith(("npm:", "pypi:")):
            return "real server " + source
        return source.split(" (")[0] if "clean" not in source else "MSB (clean)"
    if source.startswith("AgentDojo"):
        suite = source.split("suite ")[1].split(",")[0].split(")")[0]
        return f"AgentDojo {suite}"
    if source.startswith("BIPIA"):
        return "BIPIA " + source.split("/")[1]
    return "MSB"


def refuse_unseen(path: Path) -> None:
    # The path as given and as it resolves: "--dev ." inside the sealed folder, or a link to
    # it, names neither word.
    lowered = f"{path}\n{path.resolve()}".lower()
    if "heldout" in lowered or "sealed" in lowered:
        raise SystemExit(
            f"refusing to train on {path}: held-out and sealed data are never trained on"
        )


def read(path: Path, origin: str) -> list[Sample]:
    if not path.is_file():
        raise SystemExit(f"{path} not found: train from a checkout of the repository")
    out = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            if row["kind"] in KINDS:
                out.append(sample(row, origin))
    return out


def training_set(dev: Path, built: Iterable[Path] = BUILT) -> list[Sample]:
    paths = [(dev / name, "dev") for name in DEV_FILES] + [(p, p.stem) for p in built]
    for path, _origin in paths:
        refuse_unseen(path)
    return [s for path, origin in paths for s in read(path, origin)]


def _weights(samples: Sequence[Sample]) -> list[float]:
    by_source = Counter((s.malicious, s.source) for s in samples)
    raw = [1 / math.sqrt(by_source[(s.malicious, s.source)]) for s in samples]
    totals = {
        m: sum(r for r, s in zip(raw, samples, strict=True) if s.malicious is m)
        for m in (True, False)
    }
    return [r * len(samples) / (2 * totals[s.malicious]) for r, s in zip(raw, samples, strict=True)]


def _margin(w: list[float], bias: float, vector: Vector) -> float:
    n = sum(c for _f, c in vector)
    if not n:
        return bias
    return bias + sum(w[f] * c for f, c in vector) / math.sqrt(n)


def train(
    samples: Sequence[Sample], *, seed: int = SEED, epochs: int = EPOCHS
) -> tuple[list[float], float]:
    """Weights (one per bucket) and bias; the same samples and seed give the same floats.

    Multiple-instance learning, as the model is used (a text scores as its highest chunk):
    every chunk of a benign sample is a negative; a malicious sample is one positive, its
    highest-scoring chunk under the current weights (all its chunks, evenly weighted, in the
    first epoch)."""
    w = [0.0] * learned.BUCKETS
    acc = [1e-8] * learned.BUCKETS
    state = [0.0, 1e-8]  # bias, its accumulated squared gradient
    sw = _weights(samples)
    neg_total = sum(x for x, s in zip(sw, samples, strict=True) if not s.malicious)
    neg_chunks = sum(
        x / math.sqrt(len(s.chunks)) for x, s in zip(sw, samples, strict=True) if not s.malicious
    )
    neg_scale = neg_total / neg_chunks if neg_chunks else 1.0
    rng = random.Random(seed)

    def step(vector: Vector, y: float, weight: float) -> None:
        n = sum(c for _f, c in vector)
        x = 1 / math.sqrt(n) if n else 0.0
        p = learned._sigmoid(state[0] + x * sum(w[f] * c for f, c in vector))
        g = (p - y) * weight
        state[1] += g * g
        state[0] -= RATE * g / math.sqrt(state[1])
        gx = g * x
        for f, c in vector:
            gf = gx * c + L2 * w[f]
            acc[f] += gf * gf
            w[f] -= RATE * gf / math.sqrt(acc[f])

    for epoch in range(epochs):
        items: list[tuple[Vector, float, float]] = []
        for s, x in zip(samples, sw, strict=True):
            if not s.malicious:
                each = x * neg_scale / math.sqrt(len(s.chunks))
                items.extend((c, 0.0, each) for c in s.chunks)
            elif epoch == 0:
                items.extend((c, 1.0, x / len(s.chunks)) for c in s.chunks)
            else:
                best = max(s.chunks, key=lambda c: _margin(w, state[0], c))
                items.append((best, 1.0, x))
        rng.shuffle(items)
        for feats, y, weight in items:
            step(feats, y, weight)
    return w, state[0]


def scorer(weights: list[float], bias: float) -> Callable[[Sample], float]:
    def score(s: Sample) -> float:
        return learned._sigmoid(max(_margin(weights, bias, c) for c in s.chunks))

    return score


def combined(weights: list[float], bias: float, threshold: float) -> Callable[[Sample], bool]:
    """Whether the rules and the model together block a sample, as the detectors combine
    them: a description whose score reaches the threshold is one more MEDIUM signal (two
    block); content is blocked where a window around a MEDIUM finding reaches it."""
    score = scorer(weights, bias)

    def blocked(s: Sample) -> bool:
        if s.rules_block:
            return True
        if s.kind == "tool_description":
            return s.medium >= 1 and score(s) >= threshold
        return any(
            learned._sigmoid(max(_margin(weights, bias, c) for c in w)) >= threshold
            for w in s.windows
        )

    return blocked


def _rate(hits: int, total: int) -> str:
    return f"{hits}/{total} ({100 * hits / total:.0f} %)" if total else "-"


def loso(
    samples: Sequence[Sample],
    thresholds: Sequence[float],
    out: Callable[[str], None],
    *,
    reverse: bool = False,
) -> None:
    """Leave one source family out: train without it, score it. Real servers are held out
    in five folds of whole servers; AgentDojo's injection templates one at a time too.
    ``reverse`` runs the folds last to first (two processes can share the table)."""
    servers = sorted({s.group for s in samples if s.group.startswith("real server ")})
    fold = {g: f"real servers, fold {i % 5 + 1} of 5" for i, g in enumerate(servers)}
    group = {id(s): fold.get(s.group, s.group) for s in samples}
    folds: list[tuple[str, set[int]]] = []
    for fam in sorted({g for g in group.values() if not g.startswith("built: ")}):
        folds.append((fam, {id(s) for s in samples if group[id(s)] == fam}))
    for tpl in sorted(
        {s.attack for s in samples if s.group.startswith("AgentDojo") and s.malicious}
    ):
        held = {id(s) for s in samples if s.group.startswith("AgentDojo") and s.attack == tpl}
        folds.append((f"AgentDojo template {tpl}", held))
    header(thresholds, out)
    for name, held in reversed(folds) if reverse else folds:
        test = [s for s in samples if id(s) in held]
        _row([s for s in samples if id(s) not in held], test, name, thresholds, out)
        sys.stdout.flush()


def _row(
    train_on: Sequence[Sample],
    test: Sequence[Sample],
    name: str,
    thresholds: Sequence[float],
    out: Callable[[str], None],
) -> None:
    weights, bias = train(train_on)
    out(f"| {_kind(test)} | {name} | " + " | ".join(_cells(weights, bias, test, thresholds)) + " |")


def _kind(test: Sequence[Sample]) -> str:
    return "descriptions" if test[0].kind == "tool_description" else "results"


def _cells(
    weights: list[float], bias: float, test: Sequence[Sample], thresholds: Sequence[float]
) -> list[str]:
    """malicious / benign; the model alone at each threshold; the rules; rules and model at
    the last threshold (TP · FP each)."""
    score = scorer(weights, bias)
    blocked = combined(weights, bias, thresholds[-1])
    pos = [s for s in test if s.malicious]
    neg = [s for s in test if not s.malicious]

    def cell(hit: Callable[[Sample], bool]) -> str:
        tp, fp = sum(map(hit, pos)), sum(map(hit, neg))
        return f"{_rate(tp, len(pos))} · {_rate(fp, len(neg))}"

    def above(t: float) -> Callable[[Sample], bool]:
        return lambda s: score(s) >= t

    cells = [f"{len(pos)} / {len(neg)}"]
    cells.extend(cell(above(t)) for t in thresholds)
    cells.append(cell(lambda s: s.rules_block))
    cells.append(cell(blocked))
    return cells


def header(thresholds: Sequence[float], out: Callable[[str], None]) -> None:
    models = " | ".join(f"model ≥ {t}" for t in thresholds)
    out(f"| kind | held out | malicious / benign | {models} | rules | rules + model |")
    out("|---|---|---|" + "---|" * (len(thresholds) + 2))


def totals(
    weights: list[float],
    bias: float,
    test: Sequence[Sample],
    thresholds: Sequence[float],
    out: Callable[[str], None],
) -> None:
    """The same columns for a held-out file, per kind: totals only."""
    header(thresholds, out)
    for kind in KINDS:
        rows = [s for s in test if s.kind == kind]
        if rows:
            out(
                f"| {_kind(rows)} | all | "
                + " | ".join(_cells(weights, bias, rows, thresholds))
                + " |"
            )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ztmcp.detectors.train_model")
    parser.add_argument("--dev", type=Path, required=True, help="the dev corpora's folder")
    parser.add_argument("--out", type=Path, default=learned.WEIGHTS_FILE)
    parser.add_argument("--loso", action="store_true", help="print the LOSO table, write nothing")
    parser.add_argument("--heldout", type=Path, help="score a held-out file (totals only)")
    parser.add_argument("--threshold", type=float, default=THRESHOLD)
    parser.add_argument("--reverse", action="store_true", help="LOSO folds last to first")
    args = parser.parse_args(argv)
    samples = training_set(args.dev)
    thresholds = (0.5, args.threshold)
    if args.loso:
        loso(samples, thresholds, print, reverse=args.reverse)
        return 0
    weights, bias = train(samples)
    if args.heldout is not None:
        totals(weights, bias, read(args.heldout, "heldout"), thresholds, print)
        return 0
    counts = Counter(s.group.split(":")[0] for s in samples)
    meta: dict[str, object] = {
        "seed": SEED,
        "epochs": EPOCHS,
        "samples": len(samples),
        "sources": dict(sorted(counts.items())) if len(counts) < 8 else len(counts),
    }
    data = learned.encode(weights, bias, args.threshold, meta)
    args.out.write_bytes(data)
    print(f"wrote {args.out} ({len(data)} bytes, {len(samples)} samples)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
