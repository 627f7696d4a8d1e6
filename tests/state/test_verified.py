"""The memo of verified signed pins: keyed by every input, remembers successes only."""

from __future__ import annotations

from ztmcp.state.grants import db_path
from ztmcp.state.verified import VerifiedMemo, memo_key, production_root_id

M, B, R, ID, U = b"manifest", b"bundle", b"root", "i@example.com", "https://issuer"


def test_every_input_changes_the_key() -> None:
    base = memo_key(M, B, R, ID, U)
    changed = [
        memo_key(M + b"x", B, R, ID, U),
        memo_key(M, B + b"x", R, ID, U),
        memo_key(M, B, R + b"x", ID, U),
        memo_key(M, B, "sigstore-python 4.5.1 embedded production root", ID, U),
        memo_key(M, B, R, ID + "x", U),
        memo_key(M, B, R, ID, U + "x"),
    ]
    assert base not in changed and len(set(changed)) == len(changed)
    # Length prefixes: moving a byte from one field to the next is a different key.
    assert memo_key(b"ab", b"c", b"r", "i", "u") != memo_key(b"a", b"bc", b"r", "i", "u")
    assert memo_key(M, B, R, ID, U) == base


def test_known_and_remember() -> None:
    memo = VerifiedMemo()
    assert memo.known("k") is False and not db_path().exists()  # reading creates nothing
    memo.remember("k", "srv", 1.0)
    assert memo.known("k") and not memo.known("other")
    memo.close()
    again = VerifiedMemo()
    assert again.known("k")
    again.close()


def test_the_production_root_is_named_by_the_sigstore_version() -> None:
    from importlib.metadata import version

    assert version("sigstore") in production_root_id()
