"""``ztmcp proxy`` with parts taken out, to show where its per-call cost goes (benchmark only).

    python benchmarks/proxy_variant.py VARIANT proxy ARGS…

VARIANT is one of:

- ``untuned``: mitmproxy's own hook dispatch and one ``send`` per piece
  (``ZTMCP_MITM_NO_TUNING``; see ztmcp/adapters/mitm_tuning.py);
- ``envelope-only``: every Session keeps only the ``envelope`` check (what the other checks
  cost on the critical path);
- ``no-session``: the addon forwards every message without a Session (what parsing,
  checking and auditing cost together);
- ``no-addon``: the ztmcp addon only sets the upstream Host and streams responses untouched:
  the floor of the embedded, tuned mitmproxy with its six addons.

Never a way to run ztmcp: with parts taken out it does not protect anything. Used by
``bench_http.py --breakdown``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

VARIANTS = ("untuned", "envelope-only", "no-session", "no-addon")


def apply(variant: str) -> None:
    if variant == "untuned":
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
    else:
        raise SystemExit(f"unknown variant {variant!r}; one of {', '.join(VARIANTS)}")


if __name__ == "__main__":
    apply(sys.argv[1])
    from ztmcp.cli.main import main

    sys.argv = ["ztmcp", *sys.argv[2:]]
    main()
