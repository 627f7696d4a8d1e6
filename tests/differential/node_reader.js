// Reads base64 frames, one a line, on stdin; writes one JSON line per frame on stdout: what
// JSON.parse (the TypeScript SDK's reader: Buffer -> UTF-8 string -> JSON.parse) makes of the
// whole frame and of its method, params.name and params.arguments, or the error it raises.
"use strict";
const readline = require("readline");

const out = [];
const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
rl.on("line", (line) => {
  let result;
  try {
    const value = JSON.parse(Buffer.from(line, "base64").toString("utf8"));
    const isObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);
    const params = isObject(value) && isObject(value.params) ? value.params : {};
    result = {
      ok: true,
      method: isObject(value) ? value.method : undefined,
      name: params.name,
      arguments: params.arguments,
      body: value,
    };
  } catch (err) {
    result = { ok: false, error: String(err && err.message) };
  }
  out.push(JSON.stringify(result));
});
rl.on("close", () => {
  process.stdout.write(out.join("\n") + (out.length ? "\n" : ""));
});
