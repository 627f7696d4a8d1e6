"""Containment: MCP servers run in a bubblewrap sandbox whose only way out is ztmcp's egress gate.

- ``profile``: what a server may touch (paths, hosts, variables, secrets) and the ``[sandbox]``
  table of ``ztmcp.toml``;
- ``bwrap``: a profile and a command turned into a bubblewrap command line and environment
  (pure over the host facts it reads once), and the probe that refuses to start without
  user namespaces;
- ``egress``: the gate, mitmproxy in regular-proxy mode on a thread, reached over a Unix socket;
- ``bridge``: the in-sandbox launcher: the relay from 127.0.0.1:3128 to that socket, and the
  seccomp filter it installs before ``exec``ing the server (standard library only);
- ``netaudit``: that filter and ztmcp's supervisor: direct sockets refused and audited;
- ``launch``: what ``ztmcp run --sandbox`` calls.

See docs/sandbox.md for what is and is not contained.
"""
