"""The smallest stdio "server" for start-up timing: answers every request with an empty result."""

import json
import sys

for line in sys.stdin.buffer:
    msg = json.loads(line)
    if "id" in msg and "method" in msg:
        answer = b'{"jsonrpc":"2.0","id":%s,"result":{}}\n' % json.dumps(msg["id"]).encode()
        sys.stdout.buffer.write(answer)
        sys.stdout.buffer.flush()
