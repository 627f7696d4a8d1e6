"""Every tool definition's findings and learned margins, one JSON line per tool, to compare two
trees (or a tree before and after a change) byte for byte:

    cd /tmp && [PYTHONPATH=OTHER_CHECKOUT] .venv/bin/python benchmarks/dump_definitions.py OUT
    cmp OUT_BEFORE OUT_AFTER

Reads the dev descriptions, the real servers' tools (``/tmp/ztmcp-real-servers``) where they
exist and the tests' evasion, held-out, red-team and redteam3 corpora. A line holds the tool's
id, ``scan_definition``'s findings (rule, severity, start, end, message) in order, and the
model's margin of each piece of the text it scores (or the ``ScanLimit`` that refused it).
"""

from __future__ import annotations

import glob
import json
import sys
from pathlib import Path

from ztmcp.detectors import ScanLimit, _definition_rules, learned, scan_definition

_TESTS = Path(__file__).resolve().parent.parent / "tests" / "detectors"


def main() -> None:
    files = [
        "/work/shared/eval/dev/tool_descriptions.jsonl",
        *sorted(glob.glob("/tmp/ztmcp-real-servers/tools_*.jsonl")),
        *(str(_TESTS / f"{n}.jsonl") for n in ("evasion", "evasion_heldout", "evasion_redteam")),
        str(_TESTS / "redteam3.jsonl"),
    ]
    model = learned.model()
    count = 0
    with open(sys.argv[1], "w", encoding="utf-8") as out:
        for path in files:
            if not Path(path).exists():
                continue
            for line in Path(path).read_text("utf-8").splitlines():
                row = json.loads(line)
                if row.get("kind") != "tool_description" or "tool" not in row:
                    continue
                tool = row["tool"]
                try:
                    findings: object = [
                        (f.rule, f.severity.name, f.start, f.end, f.message)
                        for f in scan_definition(tool)
                    ]
                    joined = _definition_rules(tool)[1]
                    margins = [model.margin(p) for p in learned.pieces(joined)]
                except ScanLimit as exc:
                    findings, margins = ["ScanLimit", str(exc)], []
                out.write(json.dumps([row["id"], findings, margins]) + "\n")
                count += 1
    print(f"{count} definitions")


if __name__ == "__main__":
    main()
