// agentd's own MCP server (POST /mcp, docs/interop.md) through the official MCP TypeScript SDK
// client over Streamable HTTP: initialize, tools/list (each assistant a tool), tools/call on the
// mock model (a new thread, then the same thread), a run error as isError, an unknown tool as
// -32602, and the wire rules the SDK hides (405, -32700, -32601). agentd only: the reference
// server in shared/peer has no /mcp.
import assert from "node:assert/strict";
import { request } from "node:http";
import { after, before, describe, test } from "node:test";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { McpError } from "@modelcontextprotocol/sdk/types.js";
import { IsReferenceServer, kBaseUrl, NewClient, Raw, UniqueTag } from "../lib/harness.mjs";

const kIsReference = await IsReferenceServer();
const kSkip = kIsReference && "the reference server has no /mcp";

describe("mcp server", { skip: kSkip }, () => {
  let mcp;
  before(async () => {
    mcp = new Client({ name: "agentd-e2e", version: "1.0.0" });
    await mcp.connect(new StreamableHTTPClientTransport(new URL(`${kBaseUrl}/mcp`)));
  });
  after(async () => {
    await mcp?.close();
  });

  test("initialize names agentd and offers tools", () => {
    assert.equal(mcp.getServerVersion().name, "agentd");
    assert.ok(mcp.getServerCapabilities().tools, "capabilities.tools");
  });

  test("tools/list has one tool per assistant, with the graph's input schema", async () => {
    const sdk = NewClient();
    const assistant = await sdk.assistants.create({
      graphId: "echo",
      name: "my echo!",
      metadata: { tag: UniqueTag("mcp") },
    });
    try {
      const tools = [];
      let cursor;
      do {
        const page = await mcp.listTools(cursor ? { cursor } : {});
        tools.push(...page.tools);
        cursor = page.nextCursor;
      } while (cursor);
      const agent = tools.find((t) => t.name === "agent");
      assert.ok(agent, `no "agent" tool in ${tools.map((t) => t.name)}`);
      assert.equal(agent.inputSchema.type, "object");
      assert.ok(agent.inputSchema.properties.messages, "the graph's messages property");
      assert.equal(agent.inputSchema.properties.message.type, "string");
      assert.equal(agent.inputSchema.properties.thread_id.type, "string");
      const mine = tools.find((t) => t.name === `my_echo__${assistant.assistant_id}`);
      assert.ok(mine, "a user assistant's tool is <sanitized name>_<assistant_id>");
      assert.equal(mine.title, "my echo!");
      const called = await mcp.callTool({ name: mine.name, arguments: { message: "to mine" } });
      assert.deepEqual(called.content, [{ type: "text", text: "echo: to mine" }]);
      await NewClient().threads.delete(called.structuredContent.thread_id);
    } finally {
      await sdk.assistants.delete(assistant.assistant_id);
    }
  });

  test("tools/call runs the assistant and returns its final answer; thread_id continues it", async () => {
    const first = await mcp.callTool({ name: "agent", arguments: { message: "hi" } });
    assert.equal(first.isError, false);
    assert.deepEqual(first.content, [{ type: "text", text: "echo: hi" }]);
    const threadId = first.structuredContent.thread_id;
    assert.match(threadId, /^[0-9a-f-]{36}$/);
    assert.equal(first.structuredContent.messages.length, 2);

    const second = await mcp.callTool({ name: "agent", arguments: { message: "again", thread_id: threadId } });
    assert.deepEqual(second.content, [{ type: "text", text: "echo: again" }]);
    assert.equal(second.structuredContent.thread_id, threadId);
    assert.equal(second.structuredContent.messages.length, 4, "the thread kept the first turn");
    await NewClient().threads.delete(threadId);
  });

  test("a run that fails is a tool result with isError", async () => {
    const result = await mcp.callTool({ name: "echo", arguments: { messages: [{ role: "bogus", content: "x" }] } });
    assert.equal(result.isError, true);
    assert.match(result.content[0].text, /role "bogus"/);
  });

  test("an unknown tool is JSON-RPC error -32602", async () => {
    await assert.rejects(mcp.callTool({ name: "no_such_tool", arguments: {} }), (e) => {
      assert.ok(e instanceof McpError, String(e));
      assert.equal(e.code, -32602);
      return true;
    });
  });
});

describe("mcp wire rules", { skip: kSkip }, () => {
  test("GET /mcp is 405: there is no server stream", async () => {
    const r = await Raw("GET", "/mcp");
    assert.equal(r.status, 405);
    assert.equal(r.headers.get("allow"), "POST");
  });

  test("bad JSON is a parse error (-32700) with HTTP 400", async () => {
    const r = await Raw("POST", "/mcp", "{not json");
    assert.equal(r.status, 400);
    assert.equal(r.json.error.code, -32700);
    assert.equal(r.json.id, null);
  });

  test("an unknown method is -32601; a notification is 202 with no body", async () => {
    const r = await Raw("POST", "/mcp", { jsonrpc: "2.0", id: 7, method: "resources/list" });
    assert.equal(r.status, 200);
    assert.equal(r.json.id, 7);
    assert.equal(r.json.error.code, -32601);
    const n = await Raw("POST", "/mcp", { jsonrpc: "2.0", method: "notifications/initialized" });
    assert.equal(n.status, 202);
    assert.equal(n.text, "");
  });

  test("a browser Origin that is not loopback is refused (DNS rebinding), loopback ones pass", async () => {
    const post = (origin) => new Promise((resolve, reject) => {
      const body = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "ping" });
      const req = request(`${kBaseUrl}/mcp`, {
        method: "POST",
        headers: { "content-type": "application/json", origin },
        signal: AbortSignal.timeout(10_000),
      }, (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode));
      });
      req.on("error", reject);
      req.end(body);
    });
    assert.equal(await post("http://evil.example.com"), 403);
    assert.equal(await post("http://localhost:3000"), 200);
  });

  test("initialize answers the revision the client asked for when agentd speaks it", async () => {
    for (const version of ["2025-11-25", "2025-06-18", "2025-03-26"]) {
      const r = await Raw("POST", "/mcp", {
        jsonrpc: "2.0", id: 1, method: "initialize",
        params: { protocolVersion: version, capabilities: {}, clientInfo: { name: "t", version: "1" } },
      });
      assert.equal(r.json.result.protocolVersion, version);
    }
    const r = await Raw("POST", "/mcp", {
      jsonrpc: "2.0", id: 1, method: "initialize",
      params: { protocolVersion: "1999-01-01", capabilities: {}, clientInfo: { name: "t", version: "1" } },
    });
    assert.equal(r.json.result.protocolVersion, "2025-11-25");
  });
});
