"""MCP client configs: where each client keeps its servers, and how ztmcp wraps them."""
