// Wire-level rules the SDK hides: liveness, /info, CORS, error statuses and bodies.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { describe, test } from "node:test";
import { ExpectHttpError, IsReferenceServer, kBaseUrl, NewClient, Raw } from "../lib/harness.mjs";

const client = NewClient();
// agentd answers every error with JSON {"error": <code>, "detail": <message>}; the JS reference
// sends most handler errors as text/plain (agent-protocol.md 1.7). Where the two differ the
// assertion accepts the reference's answer only when the server under test is the reference.
const kIsReference = await IsReferenceServer();

// An agentd error body: JSON with a string `error` code and the message as `detail`.
function AssertErrorBody(response, code, detail) {
  assert.match(response.headers.get("content-type") ?? "", /^application\/json/, response.text);
  assert.equal(typeof response.json?.error, "string", response.text);
  assert.equal(response.json.error, code, response.text);
  if (detail instanceof RegExp) assert.match(response.json.detail, detail, response.text);
  else assert.equal(response.json.detail, detail, response.text);
}

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
    const response = await Raw("GET", "/no/such/route");
    assert.equal(response.status, 404);
    if (!kIsReference) AssertErrorBody(response, "not_found", "404 Not Found");
  });

  test("a known route with the wrong method answers 405 with Allow", async () => {
    const response = await Raw("PUT", "/threads/search", {});
    if (kIsReference) return;  // the protocol does not say what ref answers here
    assert.equal(response.status, 405, response.text);
    assert.match(response.headers.get("allow") ?? "", /POST/);
    AssertErrorBody(response, "method_not_allowed", "405 Method Not Allowed");
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
    if (!kIsReference) AssertErrorBody(response, "invalid_json", "Malformed JSON in request body");
  });

  test("JSON nested past the limit is refused saying so; 64 levels are fine", async () => {
    const nested = (depth) => "{\"d\":".repeat(depth) + "1" + "}".repeat(depth);
    // {"metadata": <63 levels>} is 64 levels in all: accepted and read back whole.
    const ok = await Raw("POST", "/threads", `{"metadata":${nested(63)}}`);
    assert.equal(ok.status, 200, ok.text);
    const read = await Raw("GET", `/threads/${ok.json.thread_id}`);
    assert.deepEqual(read.json.metadata, JSON.parse(nested(63)));
    assert.equal((await Raw("DELETE", `/threads/${ok.json.thread_id}`)).status, 204);
    const deep = await Raw("POST", "/threads", `{"metadata":${nested(64)}}`);
    if (kIsReference) {  // ref: JSON.parse has no nesting limit
      if (deep.status === 200) await Raw("DELETE", `/threads/${deep.json.thread_id}`);
      return;
    }
    assert.equal(deep.status, 400, deep.text);
    AssertErrorBody(deep, "invalid_json",
      "Malformed JSON in request body: nesting deeper than 64 levels (server.json_max_depth)");
  });

  test("a number beyond a double (1e999) is refused with 422 naming its path", async () => {
    // The SDK cannot send one (JSON.stringify(Infinity) is null), a hand-written body can.
    const thread = await Raw("POST", "/threads", '{"metadata":{"a":1,"n":1e999}}');
    if (kIsReference) {  // ref: JSON.parse reads Infinity and stores null
      if (thread.status === 200) await Raw("DELETE", `/threads/${thread.json.thread_id}`);
      return;
    }
    assert.equal(thread.status, 422, thread.text);
    AssertErrorBody(thread, "number_out_of_range", /^Number out of range at metadata\.n: /);
    assert.deepEqual(thread.json.path, ["metadata", "n"]);
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

  test("a missing thread's 404 carries the reference's message; agentd's body is JSON", async () => {
    const id = randomUUID();
    const response = await Raw("GET", `/threads/${id}`);
    assert.equal(response.status, 404);
    if (kIsReference) assert.equal(response.text, `Thread with ID ${id} not found`);
    else AssertErrorBody(response, "not_found", `Thread with ID ${id} not found`);
  });

  test("the SDK's thrown error still carries the message of a JSON error body", async () => {
    const id = randomUUID();
    const error = await ExpectHttpError(client.threads.get(id), 404, new RegExp(`Thread with ID ${id} not found`));
    assert.match(error.message, new RegExp(`HTTP 404: .*Thread with ID ${id} not found`));
    // Inside a JSON string a message's double quotes are escaped (\"): the raw text matches
    // with optional backslashes, and the parsed `detail` is the reference's text exactly.
    const graph = await ExpectHttpError(client.assistants.create({ graphId: "no-such-graph" }), 404,
      /Graph \\?"no-such-graph\\?" not found/);
    if (!kIsReference) assert.equal(JSON.parse(graph.text).detail, 'Graph "no-such-graph" not found');
  });
});
