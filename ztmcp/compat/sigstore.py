"""What ztmcp needs from sigstore-python that it offers no public API for.

The only module of ztmcp that reads sigstore's private attributes. Everything else in
``signing.py`` goes through sigstore's public API or the public Sigstore bundle format
(``Bundle.to_json()``: the DSSE envelope, the log entry's index and time).

- ``signing_services``: a ``SigningContext`` keeps its Fulcio and Rekor clients private, and
  their ``requests`` sessions have no timeout. ``ztmcp sign`` gives every request one (a hung
  Fulcio or Rekor must not hang it) and names both URLs in its progress and error lines.
- ``embedded_production_root``: ``--offline`` verification trusts the production trusted root
  shipped inside the sigstore-python wheel (``sigstore/_store``), not the copy in the user's TUF
  cache that sigstore's own offline mode reads (anyone who can write to the cache could swap it).

Both are needed, not optional: on a sigstore version not in ``SIGSTORE.tested`` they raise
``SigningError`` naming the version to install, instead of an ``AttributeError`` (or, worse,
signing without a timeout). Online and ``--trust-config`` verification use public API only and
work on any version.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from ztmcp.compat import Support
from ztmcp.errors import SigningError

if TYPE_CHECKING:
    from sigstore.models import TrustedRoot
    from sigstore.sign import SigningContext

# The sigstore versions whose internals this module was tested on (tests/test_signing.py,
# tests/cli/test_sign_cmd.py, against the local Fulcio and Rekor of tests/sigstore_local/).
SIGSTORE: Final = Support("sigstore", ("4.5.1",))

_PRODUCTION_STORE: Final = "https%3A%2F%2Ftuf-repo-cdn.sigstore.dev"


@dataclass(frozen=True)
class SigningServices:
    """Where a ``SigningContext`` will send its requests."""

    fulcio_url: str
    rekor_url: str


def signing_services(context: SigningContext, timeout: float) -> SigningServices:
    """Bound every HTTP request of ``context`` (Fulcio and Rekor) by ``timeout`` seconds and say
    where they go. Raises ``SigningError`` on an untested sigstore."""
    SIGSTORE.require("signing (HTTP timeouts for Fulcio and Rekor)", SigningError)
    from requests.adapters import HTTPAdapter

    class _Bounded(HTTPAdapter):
        def send(self, request: Any, *args: Any, **kwargs: Any) -> Any:
            if kwargs.get("timeout") is None:
                kwargs["timeout"] = timeout
            return super().send(request, *args, **kwargs)

    inner: Any = context  # its clients are private: sigstore.sign.SigningContext.__init__
    fulcio, rekor = inner._fulcio, inner._rekor
    for session in (fulcio.session, rekor._session):  # Rekor's is per thread: this one signs
        session.mount("http://", _Bounded())
        session.mount("https://", _Bounded())
    rekor_url = str(rekor.url)
    for suffix in ("/api/v1", "/api/v2"):
        rekor_url = rekor_url.removesuffix(suffix)
    return SigningServices(fulcio_url=str(fulcio.url), rekor_url=rekor_url)


def embedded_production_root() -> TrustedRoot:
    """The production trusted root inside the sigstore-python wheel (read-only, never cached).
    Raises ``SigningError`` on an untested sigstore."""
    SIGSTORE.require("offline verification (the trusted root in sigstore's wheel)", SigningError)
    from importlib import resources

    from sigstore.models import TrustedRoot

    store = resources.files("sigstore") / "_store" / _PRODUCTION_STORE
    with resources.as_file(store / "trusted_root.json") as path:
        return TrustedRoot.from_file(str(path))
