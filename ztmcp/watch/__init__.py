"""``ztmcp watch``: an agent's LLM API calls, read through an in-process mitmproxy."""
