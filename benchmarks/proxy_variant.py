"""``ztmcp proxy`` with parts taken out, to show where its per-call cost goes (benchmark only).

    python benchmarks/proxy_variant.py VARIANT proxy ARGS…

VARIANT is one of:

- ``asyncio-loop``: asyncio's own event loop instead of uvloop (``ZTMCP_EVENT_LOOP=asyncio``;
  see ztmcp/adapters/event_loop.py);
- ``untuned``: mitmproxy's own hook dispatch and one ``send`` per piece
  (``ZTMCP_MITM_NO_TUNING``; see ztmcp/compat/mitmproxy.py);
- ``envelope-only``: every Session keeps only the ``envelope`` check (what the other checks
  cost on the critical path);
- ``no-session``: the addon forwards every message without a Session (what parsing,
  checking and auditing cost together);
- ``no-addon``: the ztmcp addon only sets the upstream Host and streams responses untouched:
  the floor of the embedded, tuned mitmproxy with its six addons;
- ``parts``: nothing taken out; each part of a message's way through the Session timed
  (``bench_http.py --parts``).

Never a way to run ztmcp: with parts taken out it does not protect anything. Used by
``bench_http.py --breakdown``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

VARIANTS = ("asyncio-loop", "untuned", "envelope-only", "no-session", "no-addon")


def apply(variant: str) -> None:
    if variant == "asyncio-loop":
        os.environ["ZTMCP_EVENT_LOOP"] = "asyncio"
    elif variant == "untuned":
        os.environ["ZTMCP_MITM_NO_TUNING"] = "1"
    elif variant == "envelope-only":
        from ztmcp import session

        init = session.Session.__init__

        def only_envelope(self: Any, server: str, checks: Any, *args: Any, **kwargs: Any) -> None:
            init(self, server, [c for c in checks if c.name == "envelope"], *args, **kwargs)

        session.Session.__init__ = only_envelope  # type: ignore[method-assign]
    elif variant == "no-session":
        from ztmcp import session

        def forward(self: Any, direction: Any, raw: bytes) -> session.Decision:
            return session.Decision(session.Outcome.FORWARDED, forward=raw)

        session.Session.handle = forward  # type: ignore[method-assign]
    elif variant == "no-addon":
        from ztmcp.adapters import mitm

        def host_only(self: Any, flow: Any) -> None:
            request = flow.request
            request.host_header = mitm._authority(request.scheme, request.host, request.port)

        def stream(self: Any, flow: Any) -> None:
            if flow.response is not None:
                flow.response.stream = True

        def nothing(self: Any, flow: Any) -> None:
            return None

        mitm.ZtmcpAddon.requestheaders = host_only  # type: ignore[method-assign]
        mitm.ZtmcpAddon.request = nothing  # type: ignore[method-assign, assignment]
        mitm.ZtmcpAddon.responseheaders = stream  # type: ignore[method-assign]
        mitm.ZtmcpAddon.response = nothing  # type: ignore[method-assign]
    elif variant == "parts":
        time_parts(Path(os.environ["ZTMCP_BENCH_PARTS"]))
    else:
        raise SystemExit(f"unknown variant {variant!r}; one of {', '.join(VARIANTS)}")


def time_parts(out: Path) -> None:
    """Full ``ztmcp proxy``, with each part of a message's way through the Session timed and
    every garbage collection measured; medians (µs) written to ``out`` as JSON at exit.

    The wrappers add about 0.3 µs per timed call; the first 100 messages (start-up, listing,
    warm-up) are left out.
    """
    import atexit
    import gc
    import json
    import statistics
    import time

    from ztmcp import policy, session

    clock = time.perf_counter
    samples: dict[str, list[float]] = {}
    seen = [0]

    def timed(label: str, func: Any) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = clock()
            try:
                return func(*args, **kwargs)
            finally:
                if seen[0] > 100:
                    samples.setdefault(label, []).append((clock() - started) * 1e6)

        return wrapper

    handle = timed("Session.handle", session.Session.handle)

    def counted(self: Any, direction: Any, raw: bytes) -> Any:
        seen[0] += 1
        return handle(self, direction, raw)

    session.Session.handle = counted  # type: ignore[method-assign]
    session.Session._record = timed("  audit record", session.Session._record)  # type: ignore[method-assign]
    session.parse = timed("  parse", session.parse)
    build = policy.build_checks

    def build_timed(*args: Any, **kwargs: Any) -> Any:
        checks = build(*args, **kwargs)
        for check in checks:
            cls = type(check)
            if not getattr(cls, "_timed", False):
                cls.check = timed(f"  check {check.name}", cls.check)
                cls._timed = True
        return checks

    policy.build_checks = build_timed
    collections: list[float] = []
    began = [0.0]

    def on_gc(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            began[0] = clock()
        elif seen[0] > 100:
            collections.append((clock() - began[0]) * 1e6)

    gc.callbacks.append(on_gc)

    def dump() -> None:
        report = {k: statistics.median(v) for k, v in samples.items()}
        report["messages"] = max(seen[0] - 100, 0)
        report["gc collections"] = len(collections)
        report["gc median"] = statistics.median(collections) if collections else 0.0
        out.write_text(json.dumps(report))

    atexit.register(dump)


if __name__ == "__main__":
    apply(sys.argv[1])
    from ztmcp.cli.main import main

    sys.argv = ["ztmcp", *sys.argv[2:]]
    main()
