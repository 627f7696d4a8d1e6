"""Validation checks, run by the Session in a fixed order (see ``ztmcp.policy.build_checks``)."""

from ztmcp.checks.base import Action, Check, Context, Severity, Verdict

__all__ = ["Action", "Check", "Context", "Severity", "Verdict"]
