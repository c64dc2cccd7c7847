// The console in Chromium against build/agentd (auth off, one execution slot): chat with
// `agent` and watch the reply stream in, a tool round and its trace, a breakpoint answered from
// the page, the thread's state and history, and a queued run appearing in and leaving the
// operations view while the server is saturated.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { api, launchBrowser, newPage, shot, startAgentd, waitFor } from "../lib/harness.mjs";

describe("console playground (auth off)", () => {
  let server;
  let browser;
  let page;

  before(async () => {
    server = await startAgentd({ args: ["--max-active-runs", "1", "--max-queued-runs", "8"] });
    browser = await launchBrowser();
    page = await newPage(browser, server.url);
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  test("GET / lands on the console", async () => {
    const response = await page.goto("/");
    assert.equal(new URL(page.url()).pathname, "/console/");
    assert.equal(response.status(), 200);
    await page.getByTestId("composer").waitFor();
    assert.equal(await page.getByTestId("assistant").inputValue(), "agent");
  });

  test("chat with agent: the reply streams in token by token", async () => {
    await page.getByTestId("composer").fill("hello from chromium delay=1500");
    await page.getByTestId("composer").press("Enter");
    // The first tokens arrive while the run is still going: a partial reply under the spinner.
    const partial = await waitFor("a partial streamed reply", async () => {
      const streaming = await page.getByTestId("streaming").isVisible();
      const ai = page.locator('[data-testid="msg-ai"] .bubble').last();
      const text = (await ai.count()) ? await ai.innerText() : "";
      return streaming && text.startsWith("echo") && text !== "echo: hello from chromium delay=1500" ? text : null;
    }, 15_000, 20);
    assert.ok(partial.length < "echo: hello from chromium delay=1500".length, partial);
    await waitFor("the whole reply", async () =>
      (await page.locator('[data-testid="msg-ai"] .bubble').last().innerText()) === "echo: hello from chromium delay=1500" &&
      !(await page.getByTestId("streaming").isVisible()));
    // The new thread is in the URL and in the list.
    const threadId = new URL(page.url()).pathname.split("/").pop();
    assert.match(threadId, /^[0-9a-f-]{36}$/);
    await page.locator(`[data-thread-id="${threadId}"]`).waitFor();
    await shot(page, "playground-chat");
  });

  test("a tool round shows the call and its result, and its trace", async () => {
    await page.getByTestId("new-thread").click();
    await page.getByTestId("composer").fill("weather in Paris?");
    await page.getByTestId("send").click();
    const call = page.getByTestId("toolcall").first();
    await call.waitFor({ timeout: 15_000 });
    assert.match(await call.innerText(), /get_weather/);
    await page.getByTestId("toolresult").first().waitFor({ timeout: 15_000 });
    assert.ok((await page.getByTestId("toolresult").first().innerText()).length > 0);
    await waitFor("the final answer after the tool", async () => (await page.getByTestId("msg-ai").count()) >= 2 &&
      !(await page.getByTestId("streaming").isVisible()));
    await shot(page, "playground-tool-call");

    await page.getByTestId("open-trace").click();
    await page.getByTestId("run-inspector").waitFor();
    await waitFor("the finished trace", async () => (await page.getByTestId("trace-status").innerText()) === "success");
    const kinds = await page.locator("[data-kind]").evaluateAll((els) => els.map((e) => e.getAttribute("data-kind")));
    assert.ok(kinds.includes("node") && kinds.includes("model") && kinds.includes("tool") && kinds.includes("checkpoint"), kinds.join(","));
    await page.locator('[data-kind="tool"]').first().click();
    assert.ok((await page.getByTestId("span-result").innerText()).length > 0);
    await page.locator('[data-kind="model"]').first().click();
    assert.match(await page.getByTestId("span-detail").innerText(), /time to first token/);
    await shot(page, "run-trace");
  });

  test("a breakpoint before tools is answered from the page", async () => {
    await page.getByTestId("nav-playground").click();
    await page.getByTestId("new-thread").click();
    await page.getByTestId("break-before-tools").check();
    await page.getByTestId("composer").fill("weather in Tokyo?");
    await page.getByTestId("send").click();
    const pause = page.getByTestId("interrupt-breakpoint");
    await pause.waitFor({ timeout: 15_000 });
    assert.match(await pause.innerText(), /Paused before tools/);
    assert.equal(await page.getByTestId("toolresult").count(), 0);
    await shot(page, "playground-interrupt");
    await page.getByTestId("continue").click();
    await page.getByTestId("toolresult").first().waitFor({ timeout: 15_000 });
    await waitFor("the run to finish", async () => !(await pause.isVisible()) && !(await page.getByTestId("streaming").isVisible()));

    // The thread's channels and its history.
    await page.getByTestId("tab-state").click();
    assert.match(await page.getByTestId("state-panel").innerText(), /messages/);
    await page.getByTestId("tab-history").click();
    await waitFor("checkpoints in the history", async () => (await page.locator("[data-testid=history] li.checkpoint").count()) >= 4);
  });

  test("fork from a checkpoint starts a new branch there", async () => {
    // The history is newest first; fork from the checkpoint where only the first question is in.
    await page.getByTestId("tab-history").click();
    const forks = page.getByTestId("fork");
    await forks.last().click();
    await page.getByTestId("fork-banner").waitFor();
    await page.getByTestId("composer").fill("a different question");
    await page.getByTestId("send").click();
    await waitFor("the forked reply", async () =>
      (await page.locator('[data-testid="msg-ai"] .bubble').last().innerText()) === "echo: a different question" &&
      !(await page.getByTestId("streaming").isVisible()));
    const humans = await page.locator('[data-testid="msg-human"] .bubble').allInnerTexts();
    assert.ok(!humans.includes("weather in Tokyo?"), `the fork drops the later turn: ${humans}`);
  });

  test("a queued run appears in operations and leaves the queue", async () => {
    const ops = await newPage(browser, server.url);
    await ops.goto("/console/ops");
    await ops.getByTestId("ops").waitFor();
    await waitFor("the ops stream to go live", async () => (await ops.getByTestId("ops-status").innerText()) === "live");
    // A few samples first, so the charts have a history (and the screenshot shows one).
    await waitFor("four samples", async () => Number(await ops.getByTestId("ops").getAttribute("data-samples")) >= 4, 15_000);
    // Saturate the one slot with a slow run, then queue another behind it.
    const t1 = await api(server.url, "POST", "/threads", {});
    const t2 = await api(server.url, "POST", "/threads", {});
    const input = (text) => ({ assistant_id: "agent", input: { messages: [{ role: "human", content: text }] } });
    const slow = await api(server.url, "POST", `/threads/${t1.thread_id}/runs`, input("hold the slot delay=4000"));
    const queued = await api(server.url, "POST", `/threads/${t2.thread_id}/runs`, input("wait your turn delay=200"));
    const row = ops.locator(`tr[data-run-id="${queued.run_id}"]`);
    await waitFor("the second run to show as queued", async () => (await row.getAttribute("data-state")) === "queued", 15_000);
    assert.match(await row.innerText(), /#1/);
    assert.equal(await ops.locator(`tr[data-run-id="${slow.run_id}"]`).getAttribute("data-state"), "running");
    await shot(ops, "operations");
    await waitFor("the queued run to leave the queue", async () => (await row.count()) === 0 || (await row.getAttribute("data-state")) !== "queued", 20_000);
    await waitFor("both runs to end", async () => (await ops.locator("[data-testid=ops-runs] tr[data-run-id]").count()) === 0, 20_000);
    assert.deepEqual(ops.errors.filter((e) => !/EventSource/.test(e)), []);
    await ops.context().close();
  });

  test("the page raised no errors", () => {
    assert.deepEqual(page.errors, []);
  });
});
