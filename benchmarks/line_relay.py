"""The reference floor: ``python line_relay.py CMD ARGS…`` copies lines both ways."""

import subprocess
import sys
import threading


def pump(src, dst):
    for line in iter(src.readline, b""):
        dst.write(line)
        dst.flush()
    dst.close()


child = subprocess.Popen(sys.argv[1:], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
threading.Thread(target=pump, args=(sys.stdin.buffer, child.stdin), daemon=True).start()
pump(child.stdout, sys.stdout.buffer)
sys.exit(child.wait())
