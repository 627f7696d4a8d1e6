"""``ztmcp tui``: the Textual app (live traffic, approvals, grants, pins).

Only ``ztmcp.tui.app`` and ``ztmcp.tui.screens`` import Textual; ``watcher`` and ``state`` are
plain Python over the same State API as the CLI, so they are tested and benchmarked without it.
"""
