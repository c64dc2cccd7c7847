// Wire-level rules the SDK hides: liveness, /info, CORS, error statuses and bodies.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { describe, test } from "node:test";
import { kBaseUrl, Raw } from "../lib/harness.mjs";

describe("system endpoints", () => {
  test("GET /ok answers {ok: true}", async () => {
    const response = await Raw("GET", "/ok");
    assert.equal(response.status, 200);
    assert.deepEqual(response.json, { ok: true });
  });

  test("GET /info reports a version and the assistants flag", async () => {
    const response = await Raw("GET", "/info");
    assert.equal(response.status, 200);
    assert.equal(typeof response.json.version, "string");
    assert.equal(response.json.flags.assistants, true);
    assert.equal(typeof response.json.flags.crons, "boolean");
  });

  test("every response, errors included, allows any origin", async () => {
    for (const path of ["/ok", `/threads/${randomUUID()}`]) {
      const response = await Raw("GET", path);
      assert.equal(response.headers.get("access-control-allow-origin"), "*", path);
    }
  });

  test("an unknown route answers 404", async () => {
    assert.equal((await Raw("GET", "/no/such/route")).status, 404);
  });
});

describe("request validation", () => {
  test("POST /assistants without graph_id answers 400 naming graph_id in error.issues", async () => {
    const response = await Raw("POST", "/assistants", { name: "x" });
    assert.equal(response.status, 400, response.text);
    const issues = response.json?.error?.issues;
    assert.ok(Array.isArray(issues), `no error.issues in ${response.text}`);
    assert.ok(issues.some((issue) => JSON.stringify(issue.path) === '["graph_id"]'), response.text);
  });

  test("a thread id that is not a UUID answers 400 naming thread_id", async () => {
    const response = await Raw("GET", "/threads/not-a-uuid");
    assert.equal(response.status, 400, response.text);
    const issues = response.json?.error?.issues ?? [];
    assert.ok(issues.some((issue) => JSON.stringify(issue.path) === '["thread_id"]'), response.text);
  });

  test("malformed JSON answers 400", async () => {
    const response = await Raw("POST", "/threads", '{"metadata":');
    assert.equal(response.status, 400, response.text);
  });

  test("a text/plain body is parsed as JSON, and an empty body means {}", async () => {
    const plain = await fetch(`${kBaseUrl}/threads`, {
      method: "POST", headers: { "content-type": "text/plain" }, body: '{"metadata":{"via":"text"}}',
      signal: AbortSignal.timeout(10_000),
    });
    assert.equal(plain.status, 200);
    const thread = await plain.json();
    assert.deepEqual(thread.metadata, { via: "text" });
    const empty = await Raw("POST", "/threads");
    assert.equal(empty.status, 200, empty.text);
    assert.deepEqual(empty.json.metadata, {});
    assert.equal((await Raw("DELETE", `/threads/${thread.thread_id}`)).status, 204);
    assert.equal((await Raw("DELETE", `/threads/${empty.json.thread_id}`)).status, 204);
  });

  test("a missing thread's 404 body is the reference's plain text message", async () => {
    const id = randomUUID();
    const response = await Raw("GET", `/threads/${id}`);
    assert.equal(response.status, 404);
    assert.equal(response.text, `Thread with ID ${id} not found`);
  });
});
