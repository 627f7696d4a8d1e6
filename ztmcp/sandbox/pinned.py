"""A sandbox profile pinned in ``ztmcp.lock``, beside the server's tool pins.

``ztmcp run --sandbox --learn`` records what a server reached through the egress gate
(``ztmcp.sandbox.observed``); ``ztmcp pin NAME`` writes it into the server's lock entry::

    [servers.fetch.sandbox]
    allow_net = ["127.0.0.1:8080", "api.example.com:443"]
    allow_read = ["~/src/docs"]
    allow_write = []
    digest = "sha256:…"   # over the three lists, canonical JSON (``profile_digest``)

The digest is checked whenever the lock is read, like the whole manifest digest: a list edited
by hand without it is a one-line error naming the key. With a pinned profile, a sandboxed start
allows egress only within it: anything more is drift, refused at the gate with a 403 that says
so, recorded for ``ztmcp diff NAME`` (``observed.DRIFT``), exactly like a changed tool.

The lists are sorted and de-duplicated, so the same profile always has the same digest and the
same lock text.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from ztmcp.errors import UsageError
from ztmcp.sandbox.profile import Profile, parse_net

if TYPE_CHECKING:
    from ztmcp.drift import Egress

KEYS: Final = ("allow_net", "allow_read", "allow_write")
_DIGEST: Final = re.compile(r"^sha256:[0-9a-f]{64}$")


def net_spec(host: str, port: int) -> str:
    """``host:port`` as a network rule (IPv6 in brackets)."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def profile_digest(
    allow_net: Iterable[str], allow_read: Iterable[str], allow_write: Iterable[str]
) -> str:
    """``sha256:`` over the canonical JSON of the three sorted lists."""
    doc = {
        "allow_net": sorted(set(allow_net)),
        "allow_read": sorted(set(allow_read)),
        "allow_write": sorted(set(allow_write)),
    }
    text = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class PinnedProfile:
    """What a server may reach, as reviewed in the lock."""

    allow_net: tuple[str, ...] = ()
    allow_read: tuple[str, ...] = ()
    allow_write: tuple[str, ...] = ()

    @classmethod
    def of(
        cls,
        allow_net: Iterable[str],
        allow_read: Iterable[str] = (),
        allow_write: Iterable[str] = (),
    ) -> PinnedProfile:
        return cls(
            tuple(sorted(set(allow_net))),
            tuple(sorted(set(allow_read))),
            tuple(sorted(set(allow_write))),
        )

    @property
    def digest(self) -> str:
        return profile_digest(self.allow_net, self.allow_read, self.allow_write)

    def profile(self) -> Profile:
        """The grants this pin gives a sandboxed start."""
        return Profile(
            allow_read=self.allow_read,
            allow_write=self.allow_write,
            allow_net=tuple(rule for spec in self.allow_net for rule in parse_net(spec)),
        )

    def to_table(self) -> dict[str, Any]:
        return {
            "allow_net": list(self.allow_net),
            "allow_read": list(self.allow_read),
            "allow_write": list(self.allow_write),
            "digest": self.digest,
        }

    def summary(self) -> str:
        hosts = ", ".join(self.allow_net) or "no network"
        paths = len(self.allow_read) + len(self.allow_write)
        return f"egress to {hosts}; {paths} path grant(s)"


def parse(value: Any, where: str, err: Callable[[str, str], Exception]) -> PinnedProfile:
    """A lock's ``[servers.NAME.sandbox]`` table; ``err(key, problem)`` builds the error."""
    if not isinstance(value, dict):
        raise err(where, "must be a table")
    unknown = sorted(set(value) - {*KEYS, "digest"})
    if unknown:
        raise err(f"{where}.{unknown[0]}", "is not a known key")
    lists: dict[str, list[str]] = {}
    for key in KEYS:
        items = value.get(key, [])
        if not isinstance(items, list) or not all(isinstance(i, str) and i for i in items):
            raise err(f"{where}.{key}", "must be a list of non-empty strings")
        lists[key] = items
    for spec in lists["allow_net"]:
        try:
            parse_net(spec)
        except UsageError as exc:
            raise err(f"{where}.allow_net", f"holds a bad rule ({exc.message})") from None
    digest = value.get("digest")
    if not isinstance(digest, str) or not _DIGEST.match(digest):
        raise err(f"{where}.digest", 'must be a digest like "sha256:<64 hex digits>"')
    pinned = PinnedProfile.of(lists["allow_net"], lists["allow_read"], lists["allow_write"])
    if pinned.digest != digest:
        raise err(f"{where}.digest", "does not match its lists (the lock was edited by hand)")
    return pinned


# -- the edge: what `ztmcp pin` and `ztmcp diff` read from the state ------------------------


def learned(server: str) -> PinnedProfile | None:
    """The profile ``--learn`` runs recorded for ``server``, or None when none did."""
    from ztmcp.sandbox.observed import LEARNED, SandboxObservations

    with SandboxObservations() as store:
        rows = store.rows(server, LEARNED)
    if not rows:
        return None
    by = {what: [r.value for r in rows if r.what == what] for what in ("net", "read", "write")}
    return PinnedProfile.of(by["net"], by["read"], by["write"])


def for_pin(server: str, previous: PinnedProfile | None) -> PinnedProfile | None:
    """The profile ``ztmcp pin`` writes: the one already pinned plus what was learned since
    (learning only adds, so accepting one drifted host keeps the rest; to narrow a profile,
    ``ztmcp unpin`` and learn again)."""
    new = learned(server)
    if new is None or previous is None:
        return new or previous
    return PinnedProfile.of(
        previous.allow_net + new.allow_net,
        previous.allow_read + new.allow_read,
        previous.allow_write + new.allow_write,
    )


def forget(server: str) -> None:
    """After the lock is written: the learned profile and the drift it settles are consumed."""
    from ztmcp.sandbox.observed import SandboxObservations

    with SandboxObservations() as store:
        store.forget(server)


def refused_egress(server: str) -> list[Egress]:
    """What sandboxed starts of ``server`` tried beyond a pinned profile (``ztmcp.drift``
    keeps those against the profile pinned now)."""
    from ztmcp.drift import Egress
    from ztmcp.sandbox.observed import DRIFT, SandboxObservations

    with SandboxObservations() as store:
        rows = store.rows(server, DRIFT)
    return [Egress(r.value, r.seen, r.last_seen, r.pinned_digest) for r in rows]


# -- the run: which profile a sandboxed start gets ------------------------------------------


def pinned_for(lockfile: Path, server: str) -> PinnedProfile | None:
    """The profile pinned for ``server`` in the lock (relative: to the working directory)."""
    from ztmcp import lockfile as lockmod

    path = lockfile if lockfile.is_absolute() else Path.cwd() / lockfile
    pin = lockmod.read(path).get(server)
    return pin.sandbox if pin is not None else None


def effective(granted: Profile, pinned: PinnedProfile | None, *, learn: bool, name: str) -> Profile:
    """The profile a sandboxed start runs under.

    Without a pin (or while learning): the policy's and the flags' grants. With a pin: egress
    is the pinned profile's, nothing more (policy and flags cannot widen it: more is drift, and
    is accepted by learning and re-pinning); paths are the pinned ones plus the granted ones
    (paths are not observed, so they cannot drift).
    """
    if pinned is None or learn:
        return granted
    pin = pinned.profile()
    pinned_to = {(r.host, r.port) for r in pin.allow_net}
    wider = [r.spec for r in granted.allow_net if (r.host, r.port) not in pinned_to]
    if wider:
        import sys

        print(
            f"ztmcp: server {name!r} has a pinned sandbox profile: egress stays within it, "
            f"{', '.join(sorted(set(wider)))} not added (to widen it: --learn, then "
            f"`ztmcp pin {name}`)",
            file=sys.stderr,
        )
    return Profile(
        allow_read=tuple(dict.fromkeys(pin.allow_read + granted.allow_read)),
        allow_write=tuple(dict.fromkeys(pin.allow_write + granted.allow_write)),
        allow_net=pin.allow_net,
        env=granted.env,
        secrets=granted.secrets,
        intercept_tls=granted.intercept_tls,
        on_secret=granted.on_secret,
    )
