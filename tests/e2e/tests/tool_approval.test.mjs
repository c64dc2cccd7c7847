// Approval before tools and client-side tools (docs/graphs.md) with the official SDK: a graph
// file's `approval: required` tool pauses the run with LangChain's HITL request, the SDK resumes
// it with `command: {resume: {decisions}}`; a wrong-shaped resume is a 422; a client tool's call
// pauses with {type: "tool", toolCall} and the resume is its result.
//
// agentd-only: graph files are agentd's (the reference server has none), so this file starts its
// own build/agentd with --graphs-dir examples/graphs/approvals on a free loopback port (as
// cluster/ does), whatever AGENTD_URL names, and stops it by PID.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Client } from "@langchain/langgraph-sdk";

const kRepo = resolve(import.meta.dirname, "../../..");
const kAgentdBin = process.env.AGENTD_BIN ?? join(kRepo, "build/agentd");

function FreePort() {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => ok(port));
    });
  });
}

async function WaitFor(probe, boundMs, what) {
  const deadline = Date.now() + boundMs;
  for (;;) {
    if (await probe()) return;
    if (Date.now() >= deadline) throw new Error(`timed out after ${boundMs} ms waiting for ${what}`);
    await new Promise((done) => setTimeout(done, 50));
  }
}

describe("approval-required and client tools (graph files, agentd-only)", () => {
  let child;
  let exited = false;
  let dir;
  let log;
  let url;
  let client;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "agentd-e2e-approval-"));
    log = join(dir, "agentd.log");
    const port = await FreePort();
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("AGENTD_")));
    child = spawn(kAgentdBin, ["serve", "--storage", "memory", "--port", String(port), "--graphs-dir",
      join(kRepo, "examples/graphs/approvals"), "--log-level", "info"],
    { cwd: dir, env, stdio: ["ignore", openSync(log, "w"), openSync(log, "a")] });
    child.on("exit", () => { exited = true; });
    url = `http://127.0.0.1:${port}`;
    await WaitFor(async () => {
      if (exited) throw new Error(`agentd exited:\n${readFileSync(log, "utf8")}`);
      return (await fetch(`${url}/ok`).catch(() => null))?.ok;
    }, 20_000, "agentd to answer GET /ok");
    client = new Client({ apiUrl: url, timeoutMs: 10_000, callerOptions: { maxRetries: 0 } });
  });

  after(async () => {
    if (child && !exited) {
      child.kill("SIGTERM");
      await WaitFor(async () => exited, 15_000, "agentd to stop").catch(() => child.kill("SIGKILL"));
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test("an approval-required call pauses the stream; decisions resume it", async () => {
    const thread = await client.threads.create();
    const chunks = [];
    for await (const chunk of client.runs.stream(thread.thread_id, "guarded_weather", {
      input: { messages: [{ role: "human", content: "weather in Paris?" }] },
      streamMode: ["updates"],
    })) {
      chunks.push(chunk);
    }
    const paused = chunks.filter((c) => c.event === "updates" && c.data.__interrupt__);
    assert.equal(paused.length, 1, JSON.stringify(chunks));
    const { value } = paused[0].data.__interrupt__[0];
    assert.deepEqual(value.review_configs, [{ action_name: "get_weather", allowed_decisions: ["approve", "edit", "reject"] }]);
    assert.equal(value.action_requests.length, 1);
    assert.equal(value.action_requests[0].name, "get_weather");
    assert.deepEqual(value.action_requests[0].args, { city: "paris" });

    const state = await client.threads.getState(thread.thread_id);
    assert.deepEqual(state.next, ["tools"]);
    assert.deepEqual(state.tasks[0].interrupts[0].value, value);
    assert.equal((await client.threads.get(thread.thread_id)).status, "interrupted");

    // A wrong count is refused, naming graph and node; nothing changes.
    await assert.rejects(
      client.runs.wait(thread.thread_id, "guarded_weather", { command: { resume: { decisions: [] } } }),
      (e) => e.status === 422 && /graph guarded_weather node tools: resume\.decisions has 0 decision/.test(e.message),
    );
    assert.equal((await client.threads.getState(thread.thread_id)).checkpoint.checkpoint_id, state.checkpoint.checkpoint_id);

    const done = await client.runs.wait(thread.thread_id, "guarded_weather", {
      command: { resume: { decisions: [{ type: "edit", edited_action: { name: "get_weather", args: { city: "oslo" } } }] } },
    });
    const texts = done.messages.map((m) => `${m.type}:${m.content}`);
    assert.deepEqual(texts.slice(2), ["tool:sunny in oslo", "ai:echo: sunny in oslo"]);
    assert.equal((await client.threads.get(thread.thread_id)).status, "idle");
  });

  test("a rejected call gets the reviewer's message and does not run", async () => {
    const thread = await client.threads.create();
    const paused = await client.runs.wait(thread.thread_id, "guarded_weather", {
      input: { messages: [{ role: "human", content: "weather?" }] },
    });
    assert.ok(paused.__interrupt__[0].value.action_requests);
    const done = await client.runs.wait(thread.thread_id, "guarded_weather", {
      command: { resume: { decisions: [{ type: "reject", message: "not today" }] } },
    });
    const tool = done.messages.find((m) => m.type === "tool");
    assert.equal(tool.content, "not today");
    assert.equal(tool.status, "error");
    assert.equal(done.messages.at(-1).content, "echo: not today");
  });

  test("a client tool's call pauses the run and the resume is its result", async () => {
    const thread = await client.threads.create();
    const paused = await client.runs.wait(thread.thread_id, "client_location", {
      input: { messages: [{ role: "human", content: "weather where I am?" }] },
    });
    const { value } = paused.__interrupt__[0];
    assert.equal(value.type, "tool");
    assert.equal(value.toolCall.name, "get_location");
    const done = await client.runs.wait(thread.thread_id, "client_location", { command: { resume: "Lyon, France" } });
    const tool = done.messages.find((m) => m.type === "tool");
    assert.equal(tool.content, "Lyon, France");
    assert.equal(tool.tool_call_id, value.toolCall.id);
    assert.equal(done.messages.at(-1).content, "echo: Lyon, France");
  });
});
