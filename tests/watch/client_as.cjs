// An MCP client in Node that says it is whoever argv[2] names: `node …/claude/cli.js NAME
// PYTHON SERVER_CMD…` starts the server through `PYTHON -m ztmcp run`, sends `initialize` with
// clientInfo.name = NAME, then `tools/list`, and prints the number of tools listed.
"use strict";

const { spawn } = require("node:child_process");
const readline = require("node:readline");

const [name, python, ...server] = process.argv.slice(2);
const child = spawn(python, ["-m", "ztmcp", "run", "--name", "everything", "--", ...server], {
  stdio: ["pipe", "pipe", "inherit"],
});
const send = (message) => child.stdin.write(JSON.stringify({ jsonrpc: "2.0", ...message }) + "\n");
const timer = setTimeout(() => {
  process.stderr.write("no answer in time\n");
  child.kill();
  process.exit(1);
}, 60000);

readline.createInterface({ input: child.stdout }).on("line", (line) => {
  const message = JSON.parse(line);
  if (message.id === 1) {
    send({ method: "notifications/initialized" });
    send({ id: 2, method: "tools/list", params: {} });
  } else if (message.id === 2) {
    clearTimeout(timer);
    process.stdout.write(String(message.result.tools.length) + "\n");
    child.stdin.end();
  }
});
child.on("exit", (code) => process.exit(code === null ? 1 : 0));
send({
  id: 1,
  method: "initialize",
  params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name, version: "1.0" } },
});
