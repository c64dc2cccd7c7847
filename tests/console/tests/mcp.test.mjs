// The operations view's MCP servers table, in Chromium against build/agentd with the reference
// MCP server (server-everything, tests/mcp) over stdio: the server shows up with its tools, and
// a run whose tool lives on it shows as a successful call.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { REPO, api, launchBrowser, newPage, shot, startAgentd, waitFor } from "../lib/harness.mjs";

const EVERYTHING = join(REPO, "tests", "mcp", "node_modules", "@modelcontextprotocol", "server-everything", "dist", "index.js");

describe("console operations: MCP servers", { skip: !existsSync(EVERYTHING) && "server-everything missing: run scripts/setup.sh" }, () => {
  let server;
  let browser;

  before(async () => {
    server = await startAgentd({
      config: {
        models: [{ name: "mock", provider: "mock" }],
        mcp_servers: [{ name: "ev", transport: "stdio", command: process.execPath, args: [EVERYTHING, "stdio"], prefix: "ev_", required: true }],
        // The mock model calls the first tool offered when a message says "weather".
        graphs: [{ graph_id: "mcp_agent", kind: "react", model: "mock", tools: ["ev_get-tiny-image"] }],
      },
    });
    await waitFor("the MCP server to be up (/ready)", async () => (await fetch(`${server.url}/ready`)).ok, 30_000);
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  test("the server, its tools and a call show in operations", async () => {
    const thread = await api(server.url, "POST", "/threads", {});
    const result = await api(server.url, "POST", `/threads/${thread.thread_id}/runs/wait`, {
      assistant_id: "mcp_agent",
      input: { messages: [{ role: "human", content: "weather?" }] },
    });
    const tool = result.messages.find((m) => m.type === "tool");
    assert.equal(tool?.status, "success", JSON.stringify(result.messages));

    const ops = await newPage(browser, server.url);
    await ops.goto("/console/ops");
    await waitFor("the ops stream to go live", async () => (await ops.getByTestId("ops-status").innerText()) === "live");
    const row = ops.locator('[data-testid=ops-mcp] tr[data-mcp-server="ev"]');
    await waitFor("the ev row", async () => (await row.count()) === 1, 15_000);
    const cells = await row.locator("td").allInnerTexts();
    assert.equal(cells[0], "ev");
    assert.equal(cells[1], "up");
    assert.ok(Number(cells[2]) > 0, `tools offered: ${cells}`);
    assert.equal(cells[3], "1", `calls ok: ${cells}`);
    assert.equal(cells[4], "0", `errors: ${cells}`);
    await shot(ops, "operations-mcp");
    assert.deepEqual(ops.errors.filter((e) => !/EventSource/.test(e)), []);
    await ops.context().close();
  });
});
