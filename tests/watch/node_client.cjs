// An agent's calls with the unmodified npm `openai` package at its default base URL (run as a
// child by the tests): a call with tools, the tool result fed back, and the same streamed.
// Prints every result as JSON on stdout; a refused call prints the SDK's error instead.
// `node node_client.cjs [PROMPT]`; NODE_PATH names the directory holding `openai`.
"use strict";

const { OpenAI } = require("openai");

const TOOLS = [
  {
    type: "function",
    function: {
      name: "get_weather",
      description: "Weather for a city",
      parameters: { type: "object", properties: { city: { type: "string" } } },
    },
  },
];

async function main(prompt) {
  const client = new OpenAI({ apiKey: "sk-test", maxRetries: 0 });
  const out = [];
  const messages = [{ role: "user", content: prompt }];
  const first = await client.chat.completions.create({
    model: "gpt-test",
    messages,
    tools: TOOLS,
  });
  out.push(first);
  const call = first.choices[0].message.tool_calls[0];
  messages.push(first.choices[0].message, {
    role: "tool",
    tool_call_id: call.id,
    content: "sunny, 21C",
  });
  out.push(await client.chat.completions.create({ model: "gpt-test", messages, tools: TOOLS }));
  const stream = await client.chat.completions.create({
    model: "gpt-test",
    messages: messages.slice(0, 1),
    tools: TOOLS,
    stream: true,
  });
  const chunks = [];
  for await (const chunk of stream) chunks.push(chunk);
  out.push(chunks);
  return out;
}

main(process.argv[2] || "What is the weather in Paris?").then(
  (out) => process.stdout.write(JSON.stringify(out) + "\n"),
  (err) => {
    if (err instanceof OpenAI.APIError && err.status) {
      process.stdout.write(
        JSON.stringify({ error: err.constructor.name, status: err.status, message: err.message }) +
          "\n",
      );
    } else {
      process.stderr.write(String((err && err.stack) || err) + "\n");
      process.exit(1);
    }
  },
);
