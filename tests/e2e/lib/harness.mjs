// Shared helpers for the e2e suite: one SDK client per test file, pointed at AGENTD_URL, plus the
// few assertions that the protocol needs and node:assert lacks.
import assert from "node:assert/strict";
import { createHash, randomUUID } from "node:crypto";
import { Client } from "@langchain/langgraph-sdk";

// The server under test. run.sh sets it for agentd; point it at the reference server to check
// that a test tests the protocol rather than agentd's quirks.
export const kBaseUrl = (process.env.AGENTD_URL ?? "http://127.0.0.1:8123").replace(/\/$/, "");

// The graphs every agentd build registers (and the reference server in shared/peer too).
export const kGraphs = ["agent", "echo"];

// RFC 4122 DNS namespace: system assistant ids are uuid5(this, graph_id), as in LangGraph.
const kAssistantNamespace = "6ba7b821-9dad-11d1-80b4-00c04fd430c8";

export const kUuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function Uuid5(name, namespace = kAssistantNamespace) {
  const ns = Buffer.from(namespace.replace(/-/g, ""), "hex");
  const hash = createHash("sha1").update(ns).update(Buffer.from(name, "utf8")).digest();
  const bytes = hash.subarray(0, 16);
  bytes[6] = (bytes[6] & 0x0f) | 0x50;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = bytes.toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

// No retries: the SDK retries 5xx four times with backoff, which would hide a server fault behind
// a slow pass. A bounded timeout turns a hung request into a failure instead of a stuck suite.
export function NewClient() {
  return new Client({ apiUrl: kBaseUrl, timeoutMs: 10_000, callerOptions: { maxRetries: 0 } });
}

// A tag unique to this test process, put into metadata so that searches and counts only see what
// this run created, even against a long-lived shared server.
export function UniqueTag(label) {
  return `${label}-${randomUUID()}`;
}

// Awaits `promise` and asserts it rejected with the SDK's HTTPError carrying `status`.
export async function ExpectHttpError(promise, status, bodyPattern) {
  let error;
  try {
    const value = await promise;
    assert.fail(`expected HTTP ${status}, got success: ${JSON.stringify(value)}`);
  } catch (e) {
    if (e instanceof assert.AssertionError) throw e;
    error = e;
  }
  assert.equal(error.status, status, `expected HTTP ${status}, got: ${error.message}`);
  if (bodyPattern) assert.match(error.text ?? error.message, bodyPattern);
  return error;
}

// Raw request for wire-level checks the SDK hides (status codes of validation errors, headers).
export async function Raw(method, path, body) {
  const init = { method, headers: {}, signal: AbortSignal.timeout(10_000) };
  if (body !== undefined) {
    init.headers["content-type"] = "application/json";
    init.body = typeof body === "string" ? body : JSON.stringify(body);
  }
  const response = await fetch(`${kBaseUrl}${path}`, init);
  const text = await response.text();
  let json;
  try {
    json = text.length ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}

// Every key of `subset` is in `actual` with a deep-equal value (the protocol's containment rule).
export function AssertContains(actual, subset, message) {
  assert.ok(actual && typeof actual === "object", message ?? `expected an object, got ${JSON.stringify(actual)}`);
  for (const [key, value] of Object.entries(subset)) {
    assert.deepEqual(actual[key], value, message ?? `key ${key} of ${JSON.stringify(actual)}`);
  }
}

export function AssertTimestamp(value, what) {
  assert.equal(typeof value, "string", `${what} should be a string`);
  assert.ok(!Number.isNaN(Date.parse(value)), `${what} should be ISO-8601, got ${value}`);
}

// The JS reference server (shared/peer) reports `context: "js"` in /info; agentd does not. Used
// only to mark the reference's own known defects as `todo`, never to relax an assertion.
export async function IsReferenceServer() {
  try {
    const info = await Raw("GET", "/info");
    return info.json?.context === "js";
  } catch {
    return false;
  }
}
