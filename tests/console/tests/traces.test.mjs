// Run traces beyond the page (docs/console.md, "Run traces" and "OpenTelemetry"), through
// build/agentd, no browser: a trace is stored with its run on SQLite and read back after a
// restart; it stays within trace_max_bytes; its spans reach an OTLP/HTTP receiver that checks
// every request against the official OTLP definitions (tests/otlp/receiver.py); a full export
// queue drops spans and counts them; log lines carry the run and trace ids.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AGENTD, api, REPO, startAgentd, waitFor } from "../lib/harness.mjs";

// A tool round on `agent`: returns { thread, run }.
async function toolRound(url) {
  const thread = await api(url, "POST", "/threads", {});
  const run = await api(url, "POST", `/threads/${thread.thread_id}/runs`, {
    assistant_id: "agent",
    input: { messages: [{ role: "user", content: "weather in Paris?" }] },
  });
  await api(url, "GET", `/threads/${thread.thread_id}/runs/${run.run_id}/join`);
  return { thread: thread.thread_id, run: run.run_id };
}

async function metric(url, line) {
  const text = await (await fetch(`${url}/metrics`)).text();
  const m = text.split("\n").find((l) => l.startsWith(line + " "));
  return m ? Number(m.slice(line.length + 1)) : 0;
}

function startReceiver(dir) {
  const portFile = join(dir, "otlp.port");
  const child = spawn("/usr/bin/python3", [join(REPO, "tests", "otlp", "receiver.py"), portFile], {
    stdio: ["ignore", "inherit", "inherit"],
  });
  let exited = false;
  child.on("exit", () => (exited = true));
  return {
    async ready() {
      await waitFor("the OTLP receiver's port", () => {
        if (exited) throw new Error("receiver.py exited (python3-protobuf and protoc installed?)");
        return existsSync(portFile);
      }, 20_000);
      this.url = `http://127.0.0.1:${readFileSync(portFile, "utf8").trim()}`;
    },
    async received() {
      return (await fetch(`${this.url}/received`)).json();
    },
    stop() {
      if (!exited) child.kill("SIGTERM");
    },
  };
}

describe("run traces: stored, bounded, exported over OTLP", () => {
  let dir;
  let receiver;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "agentd-traces-"));
    receiver = startReceiver(dir);
    await receiver.ready();
  });
  after(() => {
    receiver?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test("a trace is stored with its run and read back after a restart (SQLite)", async () => {
    const dataDir = join(dir, "data");
    // trace_max_runs=0: nothing in memory, so even the first read comes from storage.
    const args = ["--storage", "sqlite", "--data-dir", dataDir, "--trace-max-runs", "0"];
    let server = await startAgentd({ args });
    let ids;
    let before;
    try {
      ids = await toolRound(server.url);
      before = await api(server.url, "GET", `/threads/${ids.thread}/runs/${ids.run}/trace`);
      assert.equal(before.status, "success");
      const kinds = before.spans.map((s) => s.kind);
      for (const k of ["node", "model", "tool", "checkpoint"]) assert.ok(kinds.includes(k), kinds.join(","));
    } finally {
      await server.stop();
    }
    server = await startAgentd({ args });
    try {
      const after = await api(server.url, "GET", `/threads/${ids.thread}/runs/${ids.run}/trace`);
      assert.deepEqual(after, before);
      // Another thread's id, or a run that does not exist: 404 with the one error shape.
      const other = await api(server.url, "POST", "/threads", {});
      const r = await fetch(`${server.url}/threads/${other.thread_id}/runs/${ids.run}/trace`);
      assert.equal(r.status, 404);
      assert.equal((await r.json()).error, "not_found");
    } finally {
      await server.stop();
    }
  });

  test("a trace stays within trace_max_bytes; the bound and masked OTLP headers are in the effective config", async () => {
    const server = await startAgentd({ args: ["--trace-max-bytes", "4096", "--trace-max-runs", "0"] });
    try {
      const ids = await toolRound(server.url);
      const r = await fetch(`${server.url}/threads/${ids.thread}/runs/${ids.run}/trace`);
      const text = await r.text();
      assert.equal(r.status, 200, text);
      assert.ok(text.length <= 4096, `${text.length} bytes`);
      const trace = JSON.parse(text);
      assert.equal(trace.status, "success");
      assert.ok(trace.dropped_spans > 0, text);
    } finally {
      await server.stop();
    }
    const shown = spawnSync(AGENTD, ["config", "--trace-max-bytes", "4096", "--otlp-headers", "authorization=Bearer s3cret"],
      { encoding: "utf8" });
    assert.match(shown.stdout, /"trace_max_bytes": 4096,\s+\/\/ flag --trace-max-bytes/);
    assert.match(shown.stdout, /"otlp_headers": \["authorization=\*\*\*\*"\]/);
    assert.doesNotMatch(shown.stdout, /s3cret/);
  });

  test("spans reach a validating OTLP receiver with GenAI attributes; logs carry the ids", async () => {
    const server = await startAgentd({
      args: ["--otlp-endpoint", `${receiver.url}/v1/traces`, "--otlp-headers", "x-otlp-test=s3cret",
        "--otlp-export-interval-ms", "50", "--log-level", "debug"],
    });
    let ids;
    try {
      ids = await toolRound(server.url);
      const traceId = ids.run.replaceAll("-", "");
      const spansOf = (got) => got.requests.flatMap((q) => q.body.resourceSpans.flatMap((rs) =>
        rs.scopeSpans.flatMap((ss) => ss.spans))).filter((s) => s.traceId === traceId);
      const got = await waitFor("the run's spans at the receiver", async () => {
        const g = await receiver.received();
        return spansOf(g).some((s) => s.name.startsWith("execute_tool")) ? g : null;
      });
      assert.deepEqual(got.errors, []);
      const spans = spansOf(got);
      const attr = (s, k) => s.attributes.find((a) => a.key === k)?.value;
      const run = spans.find((s) => s.name === "invoke_agent agent");
      assert.ok(run && !run.parentSpanId, JSON.stringify(spans.map((s) => s.name)));
      assert.equal(attr(run, "gen_ai.operation.name").stringValue, "invoke_agent");
      assert.equal(attr(run, "gen_ai.conversation.id").stringValue, ids.thread);
      const chat = spans.filter((s) => attr(s, "gen_ai.operation.name")?.stringValue === "chat");
      assert.equal(chat.length, 2); // the tool call, then the answer
      for (const c of chat) {
        assert.equal(c.kind, 3);
        assert.ok(Number(attr(c, "gen_ai.usage.input_tokens").intValue) > 0);
        assert.ok(Number(attr(c, "gen_ai.usage.output_tokens").intValue) > 0);
        assert.ok(attr(c, "gen_ai.request.model").stringValue);
        const node = spans.find((s) => s.spanId === c.parentSpanId);
        assert.equal(node.name, "model");
        assert.equal(node.parentSpanId, run.spanId);
      }
      const tool = spans.find((s) => s.name === "execute_tool get_weather");
      assert.equal(attr(tool, "gen_ai.tool.name").stringValue, "get_weather");
      assert.equal(spans.find((s) => s.spanId === tool.parentSpanId).name, "tools");
      assert.ok(got.requests.every((q) => q.headers["x-otlp-test"] === "s3cret"));
      assert.equal(got.requests[0].body.resourceSpans[0].resource.attributes
        .find((a) => a.key === "service.name").value.stringValue, "agentd");
      await waitFor("the exported counter", async () =>
        (await metric(server.url, "agentd_otlp_spans_exported_total")) >= spans.length);
      assert.match(server.log(), new RegExp(`run_id=${ids.run} trace_id=${traceId}`));
    } finally {
      await server.stop();
    }
  });

  test("a full export queue drops spans and counts them; the run is not held up", async () => {
    const server = await startAgentd({
      args: ["--otlp-endpoint", `${receiver.url}/v1/traces`, "--otlp-queue-size", "2",
        "--otlp-batch-size", "2", "--otlp-export-interval-ms", "60000"],
    });
    try {
      const ids = await toolRound(server.url);
      const trace = await api(server.url, "GET", `/threads/${ids.thread}/runs/${ids.run}/trace`);
      assert.equal(trace.status, "success");
      // The run's span and one per node, model and tool call (checkpoints are events): two fit.
      const spans = 1 + trace.spans.filter((s) => s.kind !== "checkpoint").length;
      assert.ok(spans > 4, String(spans));
      await waitFor("the dropped counter", async () =>
        (await metric(server.url, 'agentd_otlp_spans_dropped_total{reason="queue_full"}')) === spans - 2);
      const got = await receiver.received();
      assert.deepEqual(got.errors, []);
    } finally {
      await server.stop();
    }
  });
});
