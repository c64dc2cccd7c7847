// The console's approval panel in Chromium against build/agentd serving
// examples/graphs/approvals: a thread paused by an approval-required tool (LangChain's HITL
// request) opened by its URL shows the approval card; Approve sends {decisions: [{type:
// "approve"}]} and the run finishes with the tool's result; on other threads, Edit runs the
// call with new arguments, and Reject with a reason answers the call with that reason instead.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { REPO, api, launchBrowser, newPage, shot, startAgentd, waitFor } from "../lib/harness.mjs";

describe("console approval panel (approval: required tools)", () => {
  let server;
  let browser;
  let page;

  before(async () => {
    server = await startAgentd({ args: ["--graphs-dir", join(REPO, "examples", "graphs", "approvals")] });
    browser = await launchBrowser();
    page = await newPage(browser, server.url);
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  // A thread of guarded_weather paused before its tool runs (through the API, as any client).
  async function pausedThread() {
    const thread = await api(server.url, "POST", "/threads", {});
    const paused = await api(server.url, "POST", `/threads/${thread.thread_id}/runs/wait`, {
      assistant_id: "guarded_weather",
      input: { messages: [{ role: "human", content: "weather in Paris?" }] },
    });
    assert.ok(paused.__interrupt__[0].value.action_requests, JSON.stringify(paused));
    return thread.thread_id;
  }

  const lastAi = async () => {
    const ai = page.locator('[data-testid="msg-ai"] .bubble').last();
    return (await ai.count()) ? ai.innerText() : "";
  };

  test("approve in the panel runs the tool and the run finishes", async () => {
    const threadId = await pausedThread();
    await page.goto(`/console/threads/${threadId}`);
    const card = page.getByTestId("interrupt-approval");
    await card.waitFor({ timeout: 15_000 });
    assert.match(await card.innerText(), /get_weather/);
    assert.match(await card.innerText(), /paris/);
    assert.equal(await page.getByTestId("toolresult").count(), 0);
    await shot(page, "approval-pending");
    await card.getByTestId("approve").click();
    await waitFor("the run to finish with the tool's result", async () =>
      (await lastAi()) === "echo: sunny in paris" && !(await card.isVisible()) && !(await page.getByTestId("streaming").isVisible()));
    const state = await api(server.url, "GET", `/threads/${threadId}/state`);
    assert.deepEqual(state.next, []);
    assert.deepEqual(state.values.messages.map((m) => m.content).slice(2), ["sunny in paris", "echo: sunny in paris"]);
    assert.equal((await api(server.url, "GET", `/threads/${threadId}`)).status, "idle");
    await shot(page, "approval-approved");
  });

  test("edit in the panel runs the tool with the new arguments", async () => {
    const threadId = await pausedThread();
    await page.goto(`/console/threads/${threadId}`);
    const card = page.getByTestId("interrupt-approval");
    await card.waitFor({ timeout: 15_000 });
    await card.getByTestId("edit").click();
    await card.getByTestId("edit-args").fill('{"city": "oslo"}');
    await card.getByTestId("submit-edit").click();
    await waitFor("the run to finish with the edited call's result", async () =>
      (await lastAi()) === "echo: sunny in oslo" && !(await page.getByTestId("streaming").isVisible()));
    const state = await api(server.url, "GET", `/threads/${threadId}/state`);
    const ai = state.values.messages.find((m) => m.type === "ai" && m.tool_calls?.length);
    assert.deepEqual(ai.tool_calls[0].args, { city: "oslo" }, "the AI message's call shows the edited args");
    const tool = state.values.messages.find((m) => m.type === "tool");
    assert.equal(tool.content, "sunny in oslo");
  });

  test("reject with a reason answers the call with it", async () => {
    const threadId = await pausedThread();
    await page.goto(`/console/threads/${threadId}`);
    const card = page.getByTestId("interrupt-approval");
    await card.waitFor({ timeout: 15_000 });
    await card.getByPlaceholder("reason (optional)").fill("not in this demo");
    await card.getByTestId("reject").click();
    await waitFor("the run to finish after the rejection", async () =>
      (await lastAi()) === "echo: not in this demo" && !(await page.getByTestId("streaming").isVisible()));
    const state = await api(server.url, "GET", `/threads/${threadId}/state`);
    const tool = state.values.messages.find((m) => m.type === "tool");
    assert.equal(tool.content, "not in this demo");
    assert.equal(tool.status, "error");
  });

  test("the page raised no errors", () => {
    assert.deepEqual(page.errors, []);
  });
});
