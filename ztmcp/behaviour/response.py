"""Response: a flow hit or an anomaly revokes the run's open grants (policy ``[flow]
revoke``), so a compromised run loses its just-in-time access at once.

"The run's grants" are the live grants for the servers the run has called: grants are bound
to (server, tool), not to a run, and a run spans servers, so every live grant on a server the
run touched goes. Revocation uses ``ztmcp.state.grants.GrantStore.revoke`` (the same path as
``ztmcp revoke``); a failure raises ``StateError`` and the caller stops the flow.
"""

from __future__ import annotations

from collections.abc import Iterable

from ztmcp.behaviour.run import RunState
from ztmcp.checks.base import Action, Verdict
from ztmcp.state.grants import Grant, GrantStore

TRIGGERS = frozenset(
    {
        "flow.untrusted_value",
        "flow.private_to_unnamed",
        "flow.trifecta",
        "flow.rate_limit",
        "flow.approval_required",
        "anomaly",
    }
)


def should_revoke(verdicts: Iterable[Verdict], policy: bool = True) -> bool:
    """A flow denial under ``[flow] revoke = true`` (``policy``: the check's ``revoke``)."""
    return policy and any(
        v.check == "flow" and v.action is Action.DENY and v.rule in TRIGGERS for v in verdicts
    )


def revoke_run_grants(store: GrantStore, run: RunState, also: Iterable[str] = ()) -> list[Grant]:
    """Revoke every live grant on a server ``run`` called (and on the servers ``also``: the
    one whose call was refused, which the run records only for tools a flow can involve);
    the revoked grants."""
    servers = {ref.server for ref in run.calls} | set(also)
    revoked = []
    for grant in store.grants():
        if grant.server in servers:
            done = store.revoke(grant.id)
            if done is not None:
                revoked.append(done)
    return revoked
