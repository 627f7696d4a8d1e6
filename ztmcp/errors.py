"""One error root for everything ztmcp reports to a user.

Every error carries a one-line cause and, where there is one, what to do about it. The CLI
catches ``ZtmcpError`` once and prints ``diagnostics()``; nothing below the CLI prints.
"""

from __future__ import annotations


class ZtmcpError(Exception):
    """Root of every error ztmcp raises on purpose."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def diagnostics(self) -> str:
        """The user-facing text: the cause, then the fix when known."""
        if self.hint:
            return f"{self.message}\n  hint: {self.hint}"
        return self.message


class PolicyError(ZtmcpError):
    """A policy file (``ztmcp.toml`` or the user config) is missing, malformed or inconsistent."""


class ProtocolError(ZtmcpError):
    """A message is not acceptable JSON-RPC; ``code`` is the JSON-RPC error code to answer with."""

    def __init__(self, message: str, *, code: int, rule: str) -> None:
        super().__init__(message)
        self.code = code
        self.rule = rule


class AuditError(ZtmcpError):
    """The audit log cannot be written, read or verified."""


class UsageError(ZtmcpError):
    """A command was called with arguments that cannot work (bad duration, missing command)."""


class PinError(ZtmcpError):
    """A tool manifest or the pin lockfile (``ztmcp.lock``) is malformed or cannot be used."""


class SigningError(ZtmcpError):
    """A Sigstore signature, bundle or trust configuration does not verify or cannot be used."""
