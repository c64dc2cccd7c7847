// Assistants through the official JS SDK: system assistants, CRUD, versioning, graph and schemas.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { describe, test } from "node:test";
import {
  AssertTimestamp, ExpectHttpError, IsReferenceServer, kGraphs, kUuidPattern, NewClient,
  UniqueTag, Uuid5,
} from "../lib/harness.mjs";

const client = NewClient();
const kIsReference = await IsReferenceServer();

describe("system assistants", () => {
  test("search finds one system assistant per graph, named after it, with a uuid5 id", async () => {
    const found = await client.assistants.search({ metadata: { created_by: "system" }, limit: 100 });
    for (const graph of kGraphs) {
      const assistant = found.find((a) => a.graph_id === graph);
      assert.ok(assistant, `no system assistant for graph ${graph} in ${JSON.stringify(found)}`);
      assert.equal(assistant.name, graph);
      assert.equal(assistant.assistant_id, Uuid5(graph));
      assert.equal(assistant.version, 1);
      assert.deepEqual(assistant.metadata, { created_by: "system" });
      AssertTimestamp(assistant.created_at, "created_at");
      AssertTimestamp(assistant.updated_at, "updated_at");
    }
  });

  test("the agent graph's system assistant has the captured reference id", () => {
    assert.equal(Uuid5("agent"), "fe096781-5601-53d2-b2f6-0d3403f7e9ca");
  });

  test("get accepts a graph name and resolves it to the system assistant", async () => {
    for (const graph of kGraphs) {
      const byName = await client.assistants.get(graph);
      assert.equal(byName.assistant_id, Uuid5(graph));
      assert.equal(byName.graph_id, graph);
      const byId = await client.assistants.get(Uuid5(graph));
      assert.deepEqual(byId, byName);
    }
  });

  test("search by graph_id returns only that graph's assistants", async () => {
    const found = await client.assistants.search({ graphId: "echo", limit: 100 });
    assert.ok(found.length >= 1);
    for (const assistant of found) assert.equal(assistant.graph_id, "echo");
  });

  test("getGraph lists node names including __start__ and __end__", async () => {
    const graph = await client.assistants.getGraph("echo");
    const ids = graph.nodes.map((n) => n.id);
    assert.ok(ids.includes("__start__"), JSON.stringify(ids));
    assert.ok(ids.includes("__end__"), JSON.stringify(ids));
    assert.ok(ids.includes("echo"), JSON.stringify(ids));
    assert.ok(Array.isArray(graph.edges) && graph.edges.length >= 2);
    for (const edge of graph.edges) {
      assert.ok(ids.includes(edge.source), `edge source ${edge.source} is not a node`);
      assert.ok(ids.includes(edge.target), `edge target ${edge.target} is not a node`);
    }
  });

  test("getGraph of the agent graph shows its model and tools nodes", async () => {
    const graph = await client.assistants.getGraph("agent");
    const ids = graph.nodes.map((n) => n.id);
    for (const node of ["__start__", "model", "tools", "__end__"]) assert.ok(ids.includes(node), JSON.stringify(ids));
  });

  // The reference server fails to extract schemas from the .mjs graphs in shared/peer (500,
  // "Failed to extract schema"), so this runs as todo there.
  test("getSchemas returns the five schema slots for the graph", { todo: kIsReference && "reference 500s on .mjs graphs" },
    async () => {
      const schemas = await client.assistants.getSchemas("echo");
      assert.equal(schemas.graph_id, "echo");
      for (const key of ["input_schema", "output_schema", "state_schema", "config_schema", "context_schema"]) {
        assert.ok(key in schemas, `missing ${key} in ${JSON.stringify(schemas)}`);
        const schema = schemas[key];
        assert.ok(schema === null || typeof schema === "object", `${key} should be an object or null`);
      }
      assert.ok(schemas.input_schema?.properties, "input_schema should have properties");
    });

  test("get of an unknown assistant id answers 404", async () => {
    await ExpectHttpError(client.assistants.get("00000000-0000-4000-8000-000000000000"), 404, /Assistant not found/);
  });
});

describe("user assistants", () => {
  test("create returns version 1 with config, context and metadata exactly as sent", async () => {
    const tag = UniqueTag("create");
    const created = await client.assistants.create({
      graphId: "echo", name: "e2e create", description: "made by e2e",
      config: { configurable: { answer: 42 } }, context: { tone: "dry" }, metadata: { tag },
    });
    assert.match(created.assistant_id, kUuidPattern);
    assert.equal(created.graph_id, "echo");
    assert.equal(created.name, "e2e create");
    assert.equal(created.description, "made by e2e");
    assert.equal(created.version, 1);
    assert.deepEqual(created.config, { configurable: { answer: 42 } });
    assert.deepEqual(created.context, { tone: "dry" });
    assert.deepEqual(created.metadata, { tag });
    assert.deepEqual(await client.assistants.get(created.assistant_id), created);
    await client.assistants.delete(created.assistant_id);
  });

  test("create with an explicit id honours if_exists do_nothing and raise", async () => {
    const assistantId = randomUUID();
    const first = await client.assistants.create({ graphId: "echo", assistantId, name: "first" });
    assert.equal(first.assistant_id, assistantId);
    const again = await client.assistants.create({ graphId: "echo", assistantId, name: "second", ifExists: "do_nothing" });
    assert.equal(again.assistant_id, assistantId);
    assert.equal(again.name, "first");
    await ExpectHttpError(client.assistants.create({ graphId: "echo", assistantId, ifExists: "raise" }), 409);
    await client.assistants.delete(assistantId);
  });

  test("update merges metadata, bumps the version, and records every version", async () => {
    const tag = UniqueTag("versions");
    const created = await client.assistants.create({
      graphId: "echo", name: "v1", metadata: { tag, keep: "yes" }, config: { configurable: { n: 1 } },
    });
    const updated = await client.assistants.update(created.assistant_id, {
      name: "v2", metadata: { added: 2 }, config: { configurable: { n: 2 } },
    });
    assert.equal(updated.version, 2);
    assert.equal(updated.name, "v2");
    assert.deepEqual(updated.metadata, { tag, keep: "yes", added: 2 });
    assert.deepEqual(updated.config, { configurable: { n: 2 } });
    assert.equal(updated.created_at, created.created_at);

    const versions = await client.assistants.getVersions(created.assistant_id);
    assert.deepEqual(versions.map((v) => v.version), [2, 1], "versions come newest first");
    assert.equal(versions[0].name, "v2");
    assert.equal(versions[1].name, "v1");
    assert.deepEqual(versions[1].metadata, { tag, keep: "yes" });
    assert.deepEqual(versions[1].config, { configurable: { n: 1 } });
    for (const v of versions) assert.equal(v.assistant_id, created.assistant_id);

    const pinned = await client.assistants.setLatest(created.assistant_id, 1);
    assert.equal(pinned.version, 1);
    assert.equal(pinned.name, "v1");
    assert.deepEqual(pinned.metadata, { tag, keep: "yes" });
    assert.deepEqual(pinned.config, { configurable: { n: 1 } });
    const fetched = await client.assistants.get(created.assistant_id);
    assert.equal(fetched.version, 1);
    assert.equal(fetched.name, "v1");

    await ExpectHttpError(client.assistants.setLatest(created.assistant_id, 99), 404);
    await client.assistants.delete(created.assistant_id);
  });

  test("search and count filter by metadata, name and graph, with limit and offset", async () => {
    const tag = UniqueTag("search");
    const ids = [];
    for (const name of ["alpha e2e", "beta e2e", "gamma e2e"]) {
      ids.push((await client.assistants.create({ graphId: "echo", name, metadata: { tag } })).assistant_id);
    }
    assert.equal(await client.assistants.count({ metadata: { tag } }), 3);
    assert.equal(await client.assistants.count({ metadata: { tag }, graphId: "agent" }), 0);

    const all = await client.assistants.search({ metadata: { tag }, limit: 10 });
    assert.deepEqual(new Set(all.map((a) => a.assistant_id)), new Set(ids));
    const page1 = await client.assistants.search({ metadata: { tag }, limit: 2, offset: 0 });
    const page2 = await client.assistants.search({ metadata: { tag }, limit: 2, offset: 2 });
    assert.equal(page1.length, 2);
    assert.equal(page2.length, 1);
    const paged = new Set([...page1, ...page2].map((a) => a.assistant_id));
    assert.deepEqual(paged, new Set(ids), "pages must not overlap and must cover every match");

    // X-Pagination-Next (the only pagination header the SDK reads) when more matches remain.
    // ref never sends it; agentd does (agent-protocol.md section 1.5).
    const paginated = await client.assistants.search({ metadata: { tag }, limit: 2, includePagination: true });
    assert.equal(paginated.assistants.length, 2);
    assert.equal(paginated.next, kIsReference ? null : "2");
    const last = await client.assistants.search({ metadata: { tag }, limit: 2, offset: 2, includePagination: true });
    assert.equal(last.next, null, "no X-Pagination-Next on the last page");

    const byName = await client.assistants.search({ metadata: { tag }, name: "BETA" });
    assert.deepEqual(byName.map((a) => a.name), ["beta e2e"], "name matches case-insensitively");

    for (const id of ids) await client.assistants.delete(id);
    assert.equal(await client.assistants.count({ metadata: { tag } }), 0);
  });

  test("delete removes the assistant: get, update and versions then answer 404", async () => {
    const created = await client.assistants.create({ graphId: "echo", metadata: { tag: UniqueTag("delete") } });
    const deleted = await client.assistants.delete(created.assistant_id);
    // ref answers 200 ["<id>"], py 204 (the SDK then returns undefined); both are allowed.
    assert.ok(deleted === undefined || (Array.isArray(deleted) && deleted.includes(created.assistant_id)),
      `unexpected delete body ${JSON.stringify(deleted)}`);
    await ExpectHttpError(client.assistants.get(created.assistant_id), 404);
    await ExpectHttpError(client.assistants.update(created.assistant_id, { name: "x" }), 404);
    await ExpectHttpError(client.assistants.delete(created.assistant_id), 404);
  });
});
