// The key-value store through the official JS SDK: put, get, search, namespaces, delete.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  AssertTimestamp, ExpectHttpError, IsReferenceServer, NewClient, Raw, UniqueTag,
} from "../lib/harness.mjs";

const client = NewClient();
const kIsReference = await IsReferenceServer();

describe("store items", () => {
  test("putItem then getItem returns the item; a missing key gives null", async () => {
    const root = UniqueTag("store");
    await client.store.putItem([root, "docs"], "k1", { title: "hello", n: 1 });
    const item = await client.store.getItem([root, "docs"], "k1");
    assert.deepEqual(item.namespace, [root, "docs"]);
    assert.equal(item.key, "k1");
    assert.deepEqual(item.value, { title: "hello", n: 1 });
    AssertTimestamp(item.created_at, "created_at");
    AssertTimestamp(item.updated_at, "updated_at");
    assert.equal(await client.store.getItem([root, "docs"], "missing"), null);
    assert.equal(await client.store.getItem([root, "elsewhere"], "k1"), null, "the namespace is part of the key");
    await client.store.deleteItem([root, "docs"], "k1");
  });

  test("putItem on an existing key overwrites the value and keeps created_at", async () => {
    const ns = [UniqueTag("overwrite")];
    await client.store.putItem(ns, "k", { v: 1 });
    const first = await client.store.getItem(ns, "k");
    await client.store.putItem(ns, "k", { v: 2 });
    const second = await client.store.getItem(ns, "k");
    assert.deepEqual(second.value, { v: 2 });
    assert.equal(second.created_at, first.created_at);
    assert.ok(Date.parse(second.updated_at) >= Date.parse(first.updated_at));
    await client.store.deleteItem(ns, "k");
  });

  test("deleteItem removes the item and is idempotent", async () => {
    const ns = [UniqueTag("delete")];
    await client.store.putItem(ns, "k", { v: 1 });
    assert.equal(await client.store.deleteItem(ns, "k"), undefined, "delete answers 204");
    assert.equal(await client.store.getItem(ns, "k"), null);
    assert.equal(await client.store.deleteItem(ns, "k"), undefined, "deleting a missing item is still 204");
  });
});

describe("store search and namespaces", () => {
  test("searchItems matches by namespace prefix, label by label, and by value filter", async () => {
    const root = UniqueTag("search");
    await client.store.putItem([root, "a"], "k1", { kind: "note", n: 1 });
    await client.store.putItem([root, "a"], "k2", { kind: "todo", n: 2 });
    await client.store.putItem([root, "b", "deep"], "k3", { kind: "note", n: 3 });
    await client.store.putItem([`${root}x`, "a"], "k4", { kind: "note", n: 4 });

    const under = await client.store.searchItems([root], { limit: 10 });
    assert.deepEqual(under.items.map((i) => i.key).sort(), ["k1", "k2", "k3"],
      "a prefix matches whole labels: <root>x is not under <root>");

    const notes = await client.store.searchItems([root], { filter: { kind: "note" }, limit: 10 });
    assert.deepEqual(notes.items.map((i) => i.key).sort(), ["k1", "k3"]);
    for (const item of notes.items) assert.equal(item.value.kind, "note");

    const narrow = await client.store.searchItems([root, "a"], { filter: { kind: "note" } });
    assert.deepEqual(narrow.items.map((i) => i.key), ["k1"]);
    assert.deepEqual(narrow.items[0].namespace, [root, "a"]);
    assert.deepEqual(narrow.items[0].value, { kind: "note", n: 1 });

    const page1 = await client.store.searchItems([root], { limit: 2, offset: 0 });
    const page2 = await client.store.searchItems([root], { limit: 2, offset: 2 });
    assert.equal(page1.items.length, 2);
    assert.equal(page2.items.length, 1);
    assert.deepEqual([...page1.items, ...page2.items].map((i) => i.key).sort(), ["k1", "k2", "k3"]);

    assert.deepEqual((await client.store.searchItems([root], { filter: { kind: "none" } })).items, []);

    await client.store.deleteItem([root, "a"], "k1");
    await client.store.deleteItem([root, "a"], "k2");
    await client.store.deleteItem([root, "b", "deep"], "k3");
    await client.store.deleteItem([`${root}x`, "a"], "k4");
    assert.deepEqual((await client.store.searchItems([root])).items, []);
  });

  test("searchItems with a query is refused: no semantic index ranks it", async () => {
    const root = UniqueTag("query");
    await client.store.putItem([root], "k", { text: "hello" });
    if (kIsReference) {
      // ref ignores `query` without an index (agent-protocol.md 8); agentd refuses to pretend.
      await client.store.searchItems([root], { query: "hello" });
    } else {
      const error = await ExpectHttpError(client.store.searchItems([root], { query: "hello" }), 422,
        /Semantic search is not configured/);
      assert.match(error.message, /semantic_search_not_configured/);
    }
    // Without a query (or with an empty one) it is a plain search.
    assert.deepEqual((await client.store.searchItems([root], { query: "" })).items.map((i) => i.key), ["k"]);
    await client.store.deleteItem([root], "k");
  });

  test("a value with a number beyond a double is refused and nothing is stored", async () => {
    const root = UniqueTag("huge");
    const body = `{"namespace":["${root}"],"key":"k","value":{"a":1,"n":1e999}}`;
    const put = await Raw("PUT", "/store/items", body);
    if (!kIsReference) {  // ref: JSON.parse reads Infinity (stored as null)
      assert.equal(put.status, 422, put.text);
      assert.equal(put.json.error, "number_out_of_range");
      assert.deepEqual(put.json.path, ["value", "n"]);
      assert.equal(await client.store.getItem([root], "k"), null, "a refused put stores nothing");
    }
    await client.store.deleteItem([root], "k");
  });

  test("a value nested 60 levels deep is stored and read back whole", async () => {
    const root = UniqueTag("deep");
    let value = { leaf: true };
    for (let i = 0; i < 60; ++i) value = { d: value };
    await client.store.putItem([root], "k", value);
    assert.deepEqual((await client.store.getItem([root], "k")).value, value);
    await client.store.deleteItem([root], "k");
  });

  test("listNamespaces lists the distinct namespaces under a prefix, sorted, with max_depth", async () => {
    const root = UniqueTag("ns");
    await client.store.putItem([root, "b"], "k1", { v: 1 });
    await client.store.putItem([root, "b"], "k2", { v: 2 });
    await client.store.putItem([root, "a", "x"], "k3", { v: 3 });

    const listed = await client.store.listNamespaces({ prefix: [root] });
    assert.deepEqual(listed.namespaces, [[root, "a", "x"], [root, "b"]]);

    const shallow = await client.store.listNamespaces({ prefix: [root], maxDepth: 2 });
    assert.deepEqual(shallow.namespaces, [[root, "a"], [root, "b"]]);

    await client.store.deleteItem([root, "b"], "k1");
    await client.store.deleteItem([root, "b"], "k2");
    await client.store.deleteItem([root, "a", "x"], "k3");
    // Whether a namespace whose last item was deleted is still listed is not specified (ref keeps
    // listing it), so that is not asserted.
  });
});
