"""Everything that outlives a process: the only channel between proxies, CLI and TUI."""
