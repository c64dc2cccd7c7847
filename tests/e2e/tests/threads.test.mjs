// Threads through the official JS SDK: create, get, update, search, count, copy, state and history
// of a thread that never ran, delete.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { describe, test } from "node:test";
import {
  AssertContains, AssertTimestamp, ExpectHttpError, kUuidPattern, NewClient, Raw, UniqueTag,
} from "../lib/harness.mjs";

const client = NewClient();

// The shape every fresh thread has. ref omits `values` and `interrupts` until the first run ends;
// agentd sends `values: null` and `interrupts: {}` (agent-protocol.md section 9). Both are accepted.
function AssertFreshThread(thread, metadata) {
  assert.match(thread.thread_id, kUuidPattern);
  assert.equal(thread.status, "idle");
  AssertTimestamp(thread.created_at, "created_at");
  AssertTimestamp(thread.updated_at, "updated_at");
  assert.deepEqual(thread.metadata, metadata);
  assert.deepEqual(thread.config ?? {}, {});
  assert.ok(thread.values === undefined || thread.values === null, `values of a fresh thread: ${JSON.stringify(thread.values)}`);
  assert.ok(thread.interrupts === undefined || JSON.stringify(thread.interrupts) === "{}",
    `interrupts of a fresh thread: ${JSON.stringify(thread.interrupts)}`);
}

describe("thread lifecycle", () => {
  test("create with metadata returns an idle thread that get returns unchanged", async () => {
    const tag = UniqueTag("create");
    const created = await client.threads.create({ metadata: { tag, user: "ada" } });
    AssertFreshThread(created, { tag, user: "ada" });
    const fetched = await client.threads.get(created.thread_id);
    assert.deepEqual(fetched, created);
    await client.threads.delete(created.thread_id);
  });

  test("create with an explicit id keeps it and honours if_exists", async () => {
    const threadId = randomUUID();
    const created = await client.threads.create({ threadId, metadata: { n: 1 } });
    assert.equal(created.thread_id, threadId);

    const again = await client.threads.create({ threadId, metadata: { n: 2 }, ifExists: "do_nothing" });
    assert.equal(again.thread_id, threadId);
    assert.deepEqual(again.metadata, { n: 1 }, "do_nothing returns the existing thread untouched");

    await ExpectHttpError(client.threads.create({ threadId, ifExists: "raise" }), 409, /Thread already exists/);
    // raise is the default
    await ExpectHttpError(client.threads.create({ threadId }), 409);
    await client.threads.delete(threadId);
  });

  test("update merges metadata and bumps updated_at", async () => {
    const created = await client.threads.create({ metadata: { a: 1, b: "keep" } });
    const updated = await client.threads.update(created.thread_id, { metadata: { a: 2, c: true } });
    assert.equal(updated.thread_id, created.thread_id);
    assert.deepEqual(updated.metadata, { a: 2, b: "keep", c: true });
    assert.equal(updated.created_at, created.created_at);
    assert.ok(Date.parse(updated.updated_at) >= Date.parse(created.updated_at));
    assert.deepEqual((await client.threads.get(created.thread_id)).metadata, { a: 2, b: "keep", c: true });
    await client.threads.delete(created.thread_id);
  });

  test("update of a missing thread answers 404", async () => {
    await ExpectHttpError(client.threads.update(randomUUID(), { metadata: { a: 1 } }), 404);
  });

  test("delete removes the thread: get, state and history then answer 404", async () => {
    const created = await client.threads.create({ metadata: { tag: UniqueTag("delete") } });
    const deleted = await client.threads.delete(created.thread_id);
    assert.equal(deleted, undefined, "delete answers 204 with no body");
    await ExpectHttpError(client.threads.get(created.thread_id), 404, new RegExp(`Thread with ID ${created.thread_id} not found`));
    await ExpectHttpError(client.threads.getState(created.thread_id), 404);
    await ExpectHttpError(client.threads.getHistory(created.thread_id), 404);
    await ExpectHttpError(client.threads.delete(created.thread_id), 404);
  });

  test("get of a thread that never existed answers 404", async () => {
    await ExpectHttpError(client.threads.get(randomUUID()), 404);
  });
});

describe("thread search and count", () => {
  test("search filters by metadata and status, pages with limit/offset, newest first", async () => {
    const tag = UniqueTag("search");
    const ids = [];
    for (let i = 0; i < 3; ++i) ids.push((await client.threads.create({ metadata: { tag, i } })).thread_id);
    const other = await client.threads.create({ metadata: { tag: UniqueTag("other") } });

    const all = await client.threads.search({ metadata: { tag }, limit: 10 });
    assert.deepEqual(new Set(all.map((t) => t.thread_id)), new Set(ids));
    for (const thread of all) assert.equal(thread.metadata.tag, tag);
    // Default order is created_at desc. Threads made within one millisecond tie, so only the
    // order of the timestamps is checked, not the order of the ids.
    const times = all.map((t) => Date.parse(t.created_at));
    for (let i = 1; i < times.length; ++i) assert.ok(times[i - 1] >= times[i], `not newest first: ${JSON.stringify(all)}`);

    const page1 = await client.threads.search({ metadata: { tag }, status: "idle", limit: 2, offset: 0 });
    const page2 = await client.threads.search({ metadata: { tag }, status: "idle", limit: 2, offset: 2 });
    assert.equal(page1.length, 2);
    assert.equal(page2.length, 1);
    assert.deepEqual(new Set([...page1, ...page2].map((t) => t.thread_id)), new Set(ids),
      "pages must not overlap and must cover every match");

    const raw = await Raw("POST", "/threads/search", { metadata: { tag }, limit: 2, offset: 0 });
    assert.equal(raw.headers.get("x-pagination-total"), "3", "X-Pagination-Total counts every match");

    const nested = await client.threads.search({ metadata: { tag, i: 1 } });
    assert.deepEqual(nested.map((t) => t.thread_id), [ids[1]], "every filter key must match");

    assert.deepEqual(await client.threads.search({ metadata: { tag }, status: "busy" }), []);
    assert.equal(await client.threads.count({ metadata: { tag } }), 3);
    assert.equal(await client.threads.count({ metadata: { tag }, status: "idle" }), 3);
    assert.equal(await client.threads.count({ metadata: { tag }, status: "error" }), 0);

    for (const id of [...ids, other.thread_id]) await client.threads.delete(id);
    assert.equal(await client.threads.count({ metadata: { tag } }), 0);
  });

  test("search by ids returns exactly those threads", async () => {
    const a = await client.threads.create({ metadata: { tag: UniqueTag("ids") } });
    const b = await client.threads.create({ metadata: { tag: UniqueTag("ids") } });
    const found = await client.threads.search({ ids: [a.thread_id], limit: 10 });
    assert.deepEqual(found.map((t) => t.thread_id), [a.thread_id]);
    await client.threads.delete(a.thread_id);
    await client.threads.delete(b.thread_id);
  });
});

describe("copy, state and history of a thread that never ran", () => {
  test("copy makes a new idle thread with the same metadata", async () => {
    const tag = UniqueTag("copy");
    const source = await client.threads.create({ metadata: { tag } });
    const copy = await client.threads.copy(source.thread_id);
    assert.match(copy.thread_id, kUuidPattern);
    assert.notEqual(copy.thread_id, source.thread_id);
    assert.equal(copy.status, "idle");
    // ref also writes metadata.thread_id = <new id>; agentd may or may not.
    AssertContains(copy.metadata, { tag });
    assert.deepEqual(await client.threads.get(copy.thread_id), copy);
    assert.deepEqual((await client.threads.get(source.thread_id)).metadata, { tag }, "the source is untouched");
    await client.threads.delete(copy.thread_id);
    await client.threads.delete(source.thread_id);
  });

  test("copy of a missing thread is refused with 409", async () => {
    await ExpectHttpError(client.threads.copy(randomUUID()), 409);
  });

  test("getState of an empty thread: values {}, next [], tasks [], checkpoint null", async () => {
    const thread = await client.threads.create({ metadata: {} });
    const state = await client.threads.getState(thread.thread_id);
    assert.deepEqual(state.values, {});
    assert.deepEqual(state.next, []);
    assert.deepEqual(state.tasks, []);
    assert.equal(state.checkpoint, null);
    assert.equal(state.parent_checkpoint ?? null, null);
    assert.equal(state.created_at, null);
    await client.threads.delete(thread.thread_id);
  });

  test("getHistory of an empty thread is []", async () => {
    const thread = await client.threads.create({ metadata: {} });
    assert.deepEqual(await client.threads.getHistory(thread.thread_id), []);
    assert.deepEqual(await client.threads.getHistory(thread.thread_id, { limit: 5 }), []);
    await client.threads.delete(thread.thread_id);
  });
});
