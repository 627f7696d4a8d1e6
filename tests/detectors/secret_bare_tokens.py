"""Would a rule for bare tokens pay for itself? (issue 23, secrets gap 5; run with
``python -m tests.detectors.secret_bare_tokens``.)

The candidate rule: a run of 32 or more letters and digits with lower case, upper case and a
digit, not next to another base64 character, no key before it, passing the engine's own
strength and identifier tests. It would catch the one dev miss of that class (gitleaks'
generic-api-key sample ``Zf3D0L…``). This counts the texts it would flag in benign text of
many kinds: the dev corpora's benign samples, real servers' tool texts, the negatives of
``secret_negatives`` and identifiers of common formats drawn here. The dev and real-server
corpora are read where they are (never copied); a missing one is skipped and said so.
"""

from __future__ import annotations

import base64
import glob
import hashlib
import json
import random
import re
import string
import uuid
from pathlib import Path
from typing import Any

from tests.detectors import secret_negatives as neg
from ztmcp.detectors import secrets

_BARE = re.compile(r"(?<![A-Za-z0-9+/=_-])([A-Za-z0-9]{32,})(?![A-Za-z0-9+/=_-])")
_DEV = "/work/shared/eval/dev"
_REAL = "/tmp/ztmcp-real-servers"


def hits(text: str) -> list[str]:
    """What the candidate rule would flag in ``text``."""
    out = []
    for m in _BARE.finditer(text):
        v = m.group(1)
        classes = (str.islower, str.isupper, str.isdigit)
        if (
            all(any(f(c) for c in v) for f in classes)
            and secrets._strong(v)
            and not secrets._is_identifier(v)
        ):
            out.append(v)
    return out


def _strings(x: Any, out: list[str]) -> list[str]:
    if isinstance(x, str):
        out.append(x)
    elif isinstance(x, dict):
        for v in x.values():
            _strings(v, out)
    elif isinstance(x, list):
        for v in x:
            _strings(v, out)
    return out


def _jsonl(pattern: str, label: str | None = None) -> list[str] | None:
    paths = sorted(glob.glob(pattern))
    if not paths:
        return None
    texts = []
    for path in paths:
        for line in Path(path).read_text().splitlines():
            record = json.loads(line)
            if label is None or record.get("label") == label:
                texts.append("\n".join(_strings(record, [])))
    return texts


def benign_sets(seed: int = 5) -> dict[str, list[str] | None]:
    rng = random.Random(seed)
    nano = string.ascii_letters + string.digits + "_-"
    crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

    def b64(n: int, url: bool = False) -> str:
        raw = bytes(rng.getrandbits(8) for _ in range(n))
        return (base64.urlsafe_b64encode if url else base64.b64encode)(raw).decode()

    def v4() -> uuid.UUID:
        return uuid.UUID(int=rng.getrandbits(128), version=4)

    return {
        "dev arguments, benign": _jsonl(f"{_DEV}/arguments.jsonl", "benign"),
        "dev other kinds, benign": _jsonl(f"{_DEV}/tool_*.jsonl", "benign"),
        "real servers' tool texts": _jsonl(f"{_REAL}/tools_*.jsonl"),
        "negatives: code lines": neg.code(),
        "negatives: lockfiles": neg.lockfiles(),
        "negatives: git": neg.git(),
        "negatives: peers": neg.peers(),
        "negatives: generated": neg.generated(),
        "UUID v4": [str(v4()) for _ in range(2000)],
        "UUID v4, hex, upper case": [v4().hex.upper() for _ in range(2000)],
        "SHA-1/SHA-256 hex, git SHAs": [
            hashlib.sha256(str(i).encode()).hexdigest() for i in range(1000)
        ]
        + [hashlib.sha1(f"commit {i}".encode()).hexdigest() for i in range(1000)],
        "base64 of 3 KB image bytes": [b64(3000) for _ in range(200)],
        "SRI digests (sha256-<base64>)": [
            "sha256-" + base64.b64encode(hashlib.sha256(str(i).encode()).digest()).decode()
            for i in range(2000)
        ],
        "base64url of 32 random bytes": [b64(32, True).rstrip("=") for _ in range(2000)],
        "nanoid (21)": ["".join(rng.choice(nano) for _ in range(21)) for _ in range(2000)],
        "ULID": ["".join(rng.choice(crockford) for _ in range(26)) for _ in range(2000)],
        "YouTube ids": [
            "https://youtu.be/" + "".join(rng.choice(nano) for _ in range(11)) for _ in range(2000)
        ],
    }


def main() -> None:
    print(f"{'benign set':36} {'texts':>7} {'flagged':>8}  first flagged")
    for name, texts in benign_sets().items():
        if texts is None:
            print(f"{name:36} {'(absent)':>7}")
            continue
        flagged = [h for t in texts if (h := hits(t))]
        first = flagged[0][0][:44] if flagged else ""
        print(f"{name:36} {len(texts):7d} {len(flagged):8d}  {first}")
    rng = random.Random(7)
    b62 = string.ascii_letters + string.digits
    keys = ["Zf3D0LXCM3EIMbgJpUNnkRtOfOueHznB"] + [
        "".join(rng.choice(b62) for _ in range(n)) for n in (32, 40, 48) for _ in range(1000)
    ]
    found = sum(1 for k in keys if hits(f"body: {k}"))
    print(f"positives: bare base62 keys of 32/40/48 and the dev miss: {found}/{len(keys)}")


if __name__ == "__main__":
    main()
