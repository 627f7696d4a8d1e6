"""Every use of a third-party library's private attributes, one module per library.

ztmcp reaches into three libraries where they offer no public API for what it needs:
``mitmproxy`` (``compat/mitmproxy.py``: four performance patches of the embedded proxy),
``sigstore`` (``compat/sigstore.py``: HTTP timeouts for Fulcio and Rekor, their URLs, the
trusted root shipped in the wheel) and ``typer`` (``compat/typer.py``: cheaper help, and its
private copy of click for completion and a context type). No other module of ztmcp reads a
private attribute of those libraries' objects (``tests/compat/test_private_access.py`` scans
for it).

Each module names the exact versions of its library it was tested on (``Support``); on any
other version a performance patch is not applied (ztmcp runs on the library as it is, only
slower) and what signing cannot do without raises ``ZtmcpError`` naming the version to install,
never an ``AttributeError`` from deep inside the library.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from ztmcp.errors import ZtmcpError


@functools.cache
def _version(distribution: str) -> str | None:
    import importlib.metadata  # not at module level: importing it costs start-up time

    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def installed_version(distribution: str) -> str | None:
    """The installed version of ``distribution`` (from its metadata), None when absent."""
    return _version(distribution)


@dataclass(frozen=True)
class Support:
    """The versions of ``distribution`` whose private attributes a compat module relies on."""

    distribution: str
    tested: tuple[str, ...]

    def version(self) -> str | None:
        return installed_version(self.distribution)

    def active(self) -> bool:
        """True when the installed version is one the compat module was tested on."""
        return self.version() in self.tested

    def require(self, what: str, error: type[ZtmcpError] = ZtmcpError) -> None:
        """Raise ``error`` (cause and fix) unless the installed version is a tested one."""
        if self.active():
            return
        found = self.version()
        shown = f"{self.distribution} {found}" if found else f"{self.distribution} (not found)"
        raise error(
            f"{what} needs {self.distribution}'s internals, and {shown} is untested with ztmcp",
            hint=f"install {self.distribution}=={self.tested[-1]}",
        )
