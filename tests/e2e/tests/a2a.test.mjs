// agentd as an A2A agent (POST /a2a/{assistant_id}, docs/interop.md) through the official
// @a2a-js/sdk client (A2A v1.0, JSON-RPC): the agent card found from the agent's URL, send,
// stream, get, list and cancel; a task is a run, its contextId the run's thread. agentd only:
// the reference server in shared/peer has no /a2a.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { before, describe, test } from "node:test";
import { Role, TaskState } from "@a2a-js/sdk";
import { ClientFactory } from "@a2a-js/sdk/client";
import { LegacyJsonRpcTransport } from "@a2a-js/sdk/compat/v0_3/client";
import { IsReferenceServer, kBaseUrl, kUuidPattern, Raw, Uuid5 } from "../lib/harness.mjs";

const kIsReference = await IsReferenceServer();
const kSkip = kIsReference && "the reference server has no /a2a";

function UserMessage(text, contextId) {
  return {
    messageId: randomUUID(),
    role: Role.ROLE_USER,
    parts: [{ content: { $case: "text", value: text } }],
    ...(contextId ? { contextId } : {}),
  };
}

function Texts(parts) {
  return parts.filter((p) => p.content?.$case === "text").map((p) => p.content.value);
}

describe("a2a agent", { skip: kSkip }, () => {
  let client;
  before(async () => {
    // The SDK resolves <agent url>/.well-known/agent-card.json.
    client = await new ClientFactory().createFromUrl(`${kBaseUrl}/a2a/agent/`);
  });

  test("the agent card names the assistant and its JSON-RPC endpoint", async () => {
    const card = await client.getAgentCard();
    assert.equal(card.name, "agent");
    assert.equal(card.capabilities.streaming, true);
    const iface = card.supportedInterfaces[0];
    assert.equal(iface.protocolBinding, "JSONRPC");
    assert.equal(iface.url, `${kBaseUrl}/a2a/${Uuid5("agent")}`);
    // LangGraph's form of the same card.
    const byQuery = await Raw("GET", "/.well-known/agent-card.json?assistant_id=agent");
    assert.equal(byQuery.status, 200);
    assert.equal(byQuery.json.supportedInterfaces[0].url, iface.url);
    assert.equal((await Raw("GET", "/.well-known/agent-card.json")).status, 400);
  });

  test("sendMessage runs the assistant and returns the completed task with the answer", async () => {
    const task = await client.sendMessage({ message: UserMessage("hello") });
    assert.match(task.id, kUuidPattern);
    assert.match(task.contextId, kUuidPattern);
    assert.equal(task.status.state, TaskState.TASK_STATE_COMPLETED);
    assert.deepEqual(Texts(task.status.message.parts), ["echo: hello"]);
    assert.deepEqual(Texts(task.artifacts[0].parts), ["echo: hello"]);

    // The same context continues the thread; getTask reads the task back.
    const next = await client.sendMessage({ message: UserMessage("more", task.contextId) });
    assert.equal(next.contextId, task.contextId);
    assert.deepEqual(Texts(next.artifacts[0].parts), ["echo: more"]);
    const got = await client.getTask({ id: task.id });
    assert.equal(got.id, task.id);
    assert.equal(got.status.state, TaskState.TASK_STATE_COMPLETED);
    // Its own answer, not the context's latest one.
    assert.deepEqual(Texts(got.artifacts[0].parts), ["echo: hello"]);
    assert.deepEqual(Texts((await client.getTask({ id: next.id })).artifacts[0].parts), ["echo: more"]);

    const listed = await client.listTasks({ contextId: task.contextId });
    assert.deepEqual(listed.tasks.map((t) => t.id).sort(), [task.id, next.id].sort());
  });

  test("sendMessageStream streams the task from the run's event log", async () => {
    const events = [];
    for await (const event of client.sendMessageStream({ message: UserMessage("streamed") })) {
      events.push(event);
    }
    const kinds = events.map((e) => e.payload.$case);
    assert.equal(kinds[0], "task");
    assert.equal(events[0].payload.value.status.state, TaskState.TASK_STATE_SUBMITTED);
    assert.ok(kinds.includes("artifactUpdate"), kinds.join(","));
    const last = events.at(-1).payload;
    assert.equal(last.$case, "statusUpdate");
    assert.equal(last.value.status.state, TaskState.TASK_STATE_COMPLETED);
    const final = events.filter((e) => e.payload.$case === "artifactUpdate").at(-1).payload.value;
    assert.equal(final.lastChunk, true);
    assert.deepEqual(Texts(final.artifact.parts), ["echo: streamed"]);
  });

  test("resubscribeTask follows a running task from its event log to the end", async () => {
    const submitted = await client.sendMessage({
      message: UserMessage("delay=2000 later"),
      configuration: { returnImmediately: true },
    });
    const events = [];
    for await (const event of client.resubscribeTask({ id: submitted.id })) events.push(event);
    assert.equal(events[0].payload.$case, "task");
    const last = events.at(-1).payload;
    assert.equal(last.$case, "statusUpdate");
    assert.equal(last.value.status.state, TaskState.TASK_STATE_COMPLETED);
    assert.deepEqual(Texts(last.value.status.message.parts), ["echo: delay=2000 later"]);
  });

  test("cancelTask cancels a running task; a finished one cannot be canceled", async () => {
    // delay=: the mock model waits that long (mock-llm.md), so the task is still running.
    const submitted = await client.sendMessage({
      message: UserMessage("delay=20000 slow one"),
      configuration: { returnImmediately: true },
    });
    assert.equal(submitted.status.state, TaskState.TASK_STATE_SUBMITTED);
    const canceled = await client.cancelTask({ id: submitted.id });
    assert.equal(canceled.status.state, TaskState.TASK_STATE_CANCELED);
    await assert.rejects(client.cancelTask({ id: submitted.id }), /cannot be canceled/i);
    await assert.rejects(client.getTask({ id: randomUUID() }), /not found/i);
  });

  test("v0.3 clients (message/send, tasks/get) get v0.3 shapes", async () => {
    // The SDK's own v0.3 transport: it sends message/send and tasks/get and reads v0.3 JSON.
    const legacy = new LegacyJsonRpcTransport({ endpoint: `${kBaseUrl}/a2a/${Uuid5("agent")}` });
    const task = await legacy.sendMessage({ message: UserMessage("old client") });
    assert.equal(task.status.state, TaskState.TASK_STATE_COMPLETED);
    assert.deepEqual(Texts(task.artifacts[0].parts), ["echo: old client"]);
    const got = await legacy.getTask({ id: task.id });
    assert.equal(got.status.state, TaskState.TASK_STATE_COMPLETED);
    const raw = await Raw("POST", `/a2a/agent`, { jsonrpc: "2.0", id: 1, method: "tasks/get", params: { id: task.id } });
    assert.equal(raw.json.result.kind, "task");
    assert.equal(raw.json.result.status.state, "completed");
  });

  test("JSON-RPC errors: bad JSON -32700 (HTTP 400), unknown method -32601, unknown assistant 404", async () => {
    const bad = await Raw("POST", "/a2a/agent", "{");
    assert.equal(bad.status, 400);
    assert.equal(bad.json.error.code, -32700);
    const unknown = await Raw("POST", "/a2a/agent", { jsonrpc: "2.0", id: 2, method: "agent/dance" });
    assert.equal(unknown.json.error.code, -32601);
    const missing = await Raw("POST", `/a2a/${randomUUID()}`, { jsonrpc: "2.0", id: 3, method: "GetTask", params: { id: "x" } });
    assert.equal(missing.status, 404);
  });
});
