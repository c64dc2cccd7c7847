// Runs through the official JS SDK: wait, stream (values, updates, messages-tuple), joinStream,
// cancel, state and history after a run, and the multitask `reject` refusal. Passes against the
// reference server too; where the two differ by design (agent-protocol.md section 9) both
// answers are accepted explicitly.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ExpectHttpError, kUuidPattern, NewClient, Raw } from "../lib/harness.mjs";

const client = NewClient();

function Human(content) {
  return { messages: [{ role: "user", content }] };
}

async function Collect(stream) {
  const events = [];
  for await (const chunk of stream) events.push(chunk);
  return events;
}

// Polls a background run until it is terminal (bounded).
async function WaitTerminal(threadId, runId) {
  for (let i = 0; i < 200; ++i) {
    const run = await client.runs.get(threadId, runId);
    if (!["pending", "running"].includes(run.status)) return run;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.fail(`run ${runId} did not finish`);
}

describe("runs", () => {
  test("wait returns the final values of a turn", async () => {
    const thread = await client.threads.create();
    const values = await client.runs.wait(thread.thread_id, "agent", { input: Human("hi") });
    assert.equal(values.messages.length, 2);
    assert.equal(values.messages[0].type, "human");
    assert.equal(values.messages[1].type, "ai");
    assert.equal(values.messages[1].content, "echo: hi");
    const after = await client.threads.get(thread.thread_id);
    assert.equal(after.status, "idle");
    await client.threads.delete(thread.thread_id);
  });

  test("stream emits metadata first, then values, updates and message tuples", async () => {
    const thread = await client.threads.create();
    const events = await Collect(client.runs.stream(thread.thread_id, "agent", {
      input: Human("hi"),
      streamMode: ["values", "updates", "messages-tuple"],
    }));
    assert.equal(events[0].event, "metadata");
    assert.match(events[0].data.run_id, kUuidPattern);
    const names = events.map((e) => e.event);
    // Applying the input: one values event; the model step: its tokens, its update, values.
    assert.equal(names[1], "values");
    assert.deepEqual(events[1].data.messages.map((m) => m.content), ["hi"]);
    assert.ok(names.includes("messages"), names.join(","));
    const firstUpdate = names.indexOf("updates");
    assert.ok(firstUpdate > names.indexOf("messages"), names.join(","));
    assert.equal(names.at(-1), "values");
    assert.equal(events.at(-1).data.messages.at(-1).content, "echo: hi");
    assert.deepEqual(Object.keys(events[firstUpdate].data), ["model"]);
    for (const e of events.filter((x) => x.event === "messages")) {
      assert.ok(Array.isArray(e.data) && e.data.length === 2, JSON.stringify(e.data));
      assert.equal(e.data[1].langgraph_node, "model");
    }
    // Token chunks add up to the reply.
    const text = events.filter((e) => e.event === "messages").map((e) => e.data[0].content).join("");
    assert.equal(text, "echo: hi");
    await client.threads.delete(thread.thread_id);
  });

  // Joined while the run is active (useStream's reconnect after a reload). After the run ended,
  // ref answers the SDK's join with an empty stream, so the test joins before the end.
  test("joinStream replays an active resumable run from the start with lastEventId -1", async () => {
    const thread = await client.threads.create();
    const run = await client.runs.create(thread.thread_id, "agent", {
      input: Human("delay=1000 join me"), streamMode: ["values"], streamResumable: true,
    });
    assert.equal(run.status, "pending");
    const events = await Collect(client.runs.joinStream(thread.thread_id, run.run_id, { lastEventId: "-1" }));
    assert.deepEqual(events.map((e) => e.event), ["metadata", "values", "values"]);
    assert.equal(events[0].data.run_id, run.run_id);
    assert.equal(events.at(-1).data.messages.at(-1).content, "echo: delay=1000 join me");
    await client.threads.delete(thread.thread_id);
  });

  test("state and history reflect the finished run", async () => {
    const thread = await client.threads.create();
    await client.runs.wait(thread.thread_id, "agent", { input: Human("remember") });
    const state = await client.threads.getState(thread.thread_id);
    assert.deepEqual(state.values.messages.map((m) => m.content), ["remember", "echo: remember"]);
    assert.deepEqual(state.next, []);
    const history = await client.threads.getHistory(thread.thread_id, { limit: 10 });
    assert.ok(history.length >= 2, `history of ${history.length}`);
    assert.equal(history[0].checkpoint.checkpoint_id, state.checkpoint.checkpoint_id);
    assert.equal(history.at(-1).values.messages?.length ?? 0, 0);
    await client.threads.delete(thread.thread_id);
  });

  test("a second run under reject is refused with 422 while the first is active", async () => {
    const thread = await client.threads.create();
    const first = await client.runs.create(thread.thread_id, "agent", { input: Human("delay=3000 slow") });
    await ExpectHttpError(
      client.runs.create(thread.thread_id, "agent", { input: Human("second"), multitaskStrategy: "reject" }),
      422, /Thread is already running a task/);
    await client.runs.cancel(thread.thread_id, first.run_id);
    const ended = await WaitTerminal(thread.thread_id, first.run_id);
    // agentd: `interrupted` (py); ref reports `error` (section 9).
    assert.ok(["interrupted", "error"].includes(ended.status), ended.status);
    await client.threads.delete(thread.thread_id);
  });

  test("cancel stops a running run and the thread takes a new run afterwards", async () => {
    const thread = await client.threads.create();
    const run = await client.runs.create(thread.thread_id, "agent", { input: Human("delay=3000 stop me") });
    await client.runs.cancel(thread.thread_id, run.run_id, false, "interrupt");
    const ended = await WaitTerminal(thread.thread_id, run.run_id);
    assert.ok(["interrupted", "error"].includes(ended.status), ended.status);
    const values = await client.runs.wait(thread.thread_id, "agent", { input: Human("again") });
    assert.equal(values.messages.at(-1).content, "echo: again");
    await client.threads.delete(thread.thread_id);
  });

  test("runs.list shows the thread's runs and a run of another thread is 404", async () => {
    const thread = await client.threads.create();
    const other = await client.threads.create();
    await client.runs.wait(thread.thread_id, "agent", { input: Human("one") });
    const runs = await client.runs.list(thread.thread_id);
    assert.equal(runs.length, 1);
    assert.equal(runs[0].status, "success");
    const r = await Raw("GET", `/threads/${other.thread_id}/runs/${runs[0].run_id}`);
    assert.equal(r.status, 404);
    await client.threads.delete(thread.thread_id);
    await client.threads.delete(other.thread_id);
  });

  test("command goto __end__ applies the update and ends the run without running a node", async () => {
    const thread = await client.threads.create();
    await client.runs.wait(thread.thread_id, "echo", { input: Human("one") });
    const values = await client.runs.wait(thread.thread_id, "echo", {
      command: { goto: "__end__", update: { messages: [{ role: "user", content: "noted" }] } },
    });
    assert.deepEqual(values.messages.map((m) => m.content), ["one", "echo: one", "noted"]);
    const runs = await client.runs.list(thread.thread_id);
    assert.equal(runs[0].status, "success");
    const state = await client.threads.getState(thread.thread_id);
    assert.deepEqual(state.next, []);
    assert.equal((await client.threads.get(thread.thread_id)).status, "idle");
    await client.threads.delete(thread.thread_id);
  });

  test("stateless wait runs on a throwaway thread", async () => {
    const values = await client.runs.wait(null, "agent", { input: Human("nobody") });
    assert.equal(values.messages.at(-1).content, "echo: nobody");
  });
});
