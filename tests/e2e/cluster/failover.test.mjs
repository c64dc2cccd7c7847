// Failover through the official JS SDK: three real agentd instances on PostgreSQL + Redis; a run
// created on A is followed with joinStream on C; A is killed with SIGKILL; B or C adopts the run
// and continues its event stream in a new id range (docs/scaling.md). The follower must go on
// across the continuation without an `error` event, see the new attempt announced by its
// `metadata` event, and end with the full reply; clients that reconnect with Last-Event-ID
// (during the new attempt, or after the run ended) get exactly the events they missed.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Client } from "@langchain/langgraph-sdk";
import { Cluster, Services, WaitFor } from "./cluster.mjs";

const services = Services();
const cluster = new Cluster({ count: 3, leaseMs: 1500 });
let failed = false;

function NewClient(node) {
  return new Client({ apiUrl: node.url, timeoutMs: 10_000, callerOptions: { maxRetries: 0 } });
}

function Human(content) {
  return { messages: [{ role: "user", content }] };
}

// What a client keeps of an event: the SDK's parts carry id, event and data.
function Part(p) {
  return { id: Number(p.id), event: p.event, data: p.data };
}

function Describe(parts) {
  return parts.map((p) => `${p.id} ${p.event} ${JSON.stringify(p.data).slice(0, 120)}`).join("\n");
}

describe("cluster failover", { skip: services.skip }, () => {
  before(async () => {
    try {
      await cluster.Start(services);
    } catch (e) {
      failed = true;
      throw e;
    }
  });

  after(async () => {
    if (failed) console.error(cluster.Logs());
    await cluster.Stop({ keepLogs: failed });
  });

  // Keeps the instances' logs (and prints their tails) when the body throws.
  const Checked = (body) => async () => {
    try {
      await body();
    } catch (e) {
      failed = true;
      throw e;
    }
  };

  test("a follower on C goes on across the adoption of a run whose instance was killed -9", { timeout: 180_000 }, Checked(async () => {
    const [a, b, c] = cluster.nodes;
    const onA = NewClient(a);
    const content = "delay=6000 failover";
    const thread = await onA.threads.create();
    // Created on A: A owns (leases) and executes it.
    const run = await onA.runs.create(thread.thread_id, "agent", {
      input: Human(content), streamMode: ["values", "updates", "messages-tuple"],
    });

    let killed = false;
    let announceAdoption;
    const adopted = new Promise((resolve) => { announceAdoption = resolve; });
    const stopAll = AbortSignal.timeout(90_000);

    // The follower on C: the SDK's joinStream, iterated to its end.
    const following = (async () => {
      const parts = [];
      try {
        for await (const p of NewClient(c).runs.joinStream(thread.thread_id, run.run_id, { signal: stopAll })) {
          parts.push(Part(p));
          // Kill A while its model call streams (a token came): the run is mid-flight.
          if (!killed && p.event === "messages") {
            killed = true;
            await cluster.Kill(a);
          }
          if (p.event === "metadata" && p.data.attempt >= 2) announceAdoption(parts.at(-1));
        }
      } finally {
        announceAdoption(null);  // the stream ended without a new attempt: nobody waits forever
      }
      return parts;
    })();

    // A client on B that drops its connection after A's first token and reconnects with
    // Last-Event-ID once the new attempt has begun (replay across the jump, then live).
    const resuming = (async () => {
      const seen = [];
      const first = new AbortController();
      const onB = NewClient(b);
      for await (const p of onB.runs.joinStream(thread.thread_id, run.run_id, { signal: first.signal })) {
        seen.push(Part(p));
        if (p.event === "messages") break;
      }
      first.abort();
      const lastEventId = String(seen.at(-1).id);
      if (!(await adopted)) return { seen, rest: null };
      const rest = [];
      for await (const p of onB.runs.joinStream(thread.thread_id, run.run_id, { lastEventId, signal: stopAll })) {
        rest.push(Part(p));
      }
      return { seen, rest };
    })();

    const parts = await following;
    const { seen, rest } = await resuming;
    assert.ok(killed, "A was never killed: no token came before the run ended\n" + Describe(parts));

    // No error event, ids strictly increasing.
    const errors = parts.filter((p) => p.event === "error");
    assert.deepEqual(errors, [], "the follower got an error event\n" + Describe(parts));
    for (let i = 1; i < parts.length; ++i) {
      assert.ok(parts[i].id > parts[i - 1].id, `ids do not increase at ${i}\n` + Describe(parts));
    }
    // The new attempt is announced by its own metadata event, after every event of attempt 1.
    const metadata = parts.filter((p) => p.event === "metadata");
    assert.equal(metadata.length, 2, Describe(parts));
    assert.equal(metadata[0].data.attempt, 1);
    assert.ok(metadata[1].data.attempt >= 2, JSON.stringify(metadata[1].data));
    assert.equal(metadata[1].data.run_id, run.run_id);
    const jump = parts.indexOf(metadata[1]);
    // The full final reply; the new attempt's tokens add up to it.
    const last = parts.at(-1);
    assert.equal(last.event, "values", Describe(parts));
    assert.equal(last.data.messages.at(-1).content, `echo: ${content}`);
    const tokens = parts.slice(jump).filter((p) => p.event === "messages").map((p) => p.data[0].content).join("");
    assert.equal(tokens, `echo: ${content}`);

    // The reconnecting client got exactly what it missed: the follower's events after its id.
    assert.ok(rest !== null, "the follower saw no new attempt\n" + Describe(parts));
    const lastSeen = seen.at(-1).id;
    assert.deepEqual(seen, parts.filter((p) => p.id <= lastSeen));
    assert.deepEqual(rest, parts.filter((p) => p.id > lastSeen), "live resume after " + lastSeen);

    // After the end, on each survivor: resuming after an id from attempt 1 (its last event, just
    // before the jump), the new attempt's metadata, or a token of it gives exactly the rest.
    const firstToken = parts.slice(jump).find((p) => p.event === "messages");
    const resumeAfter = [parts[jump - 1].id, parts[jump].id, firstToken.id];
    for (const node of [b, c]) {
      const client = NewClient(node);
      for (const lastEventId of resumeAfter) {
        const got = [];
        for await (const p of client.runs.joinStream(thread.thread_id, run.run_id, {
          lastEventId: String(lastEventId), signal: stopAll,
        })) {
          got.push(Part(p));
        }
        assert.deepEqual(got, parts.filter((p) => p.id > lastEventId), `resume on ${node.name} after ${lastEventId}`);
      }
      // And the whole log from the start.
      const all = [];
      for await (const p of client.runs.joinStream(thread.thread_id, run.run_id, { lastEventId: "-1", signal: stopAll })) {
        all.push(Part(p));
      }
      assert.deepEqual(all, parts, `replay from the start on ${node.name}`);
    }

    // The run ended once, successfully, on a survivor; the thread holds one turn.
    const onC = NewClient(c);
    await WaitFor(async () => (await onC.runs.get(thread.thread_id, run.run_id)).status !== "running",
      10_000, "the run's final status");
    assert.equal((await onC.runs.get(thread.thread_id, run.run_id)).status, "success");
    const state = await onC.threads.getState(thread.thread_id);
    assert.deepEqual(state.values.messages.map((m) => m.content), [content, `echo: ${content}`]);
  }));
});
