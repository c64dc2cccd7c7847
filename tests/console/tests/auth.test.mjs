// The console with auth required (two tenants by API key, acme is the admin): each tenant
// signs in and sees only its own threads; operations need the admin; and Chromium follows SSE
// and WebSocket routes with a stream token (URL or cookie), which nothing else accepts.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { api, launchBrowser, newPage, shot, startAgentd, waitFor } from "../lib/harness.mjs";

const sha = (s) => createHash("sha256").update(s).digest("hex");
const ACME = "acme-key-0123456789";
const GLOBEX = "globex-key-0123456789";

describe("console with auth (two tenants)", () => {
  let server;
  let browser;
  const threads = {};
  const runs = {};

  before(async () => {
    server = await startAgentd({
      config: {
        server: { console_admin_tenants: ["acme"] },
        auth: {
          mode: "required",
          api_keys: [
            { sha256: sha(ACME), tenant: "acme", user_id: "alice" },
            { sha256: sha(GLOBEX), tenant: "globex", user_id: "bob" },
          ],
        },
      },
    });
    browser = await launchBrowser();
    for (const [name, key] of [["acme", ACME], ["globex", GLOBEX]]) {
      const t = await api(server.url, "POST", "/threads", { metadata: { owner: name } }, key);
      await api(server.url, "POST", `/threads/${t.thread_id}/runs/wait`,
        { assistant_id: "echo", input: { messages: [{ role: "human", content: `${name} says hi` }] } }, key);
      threads[name] = t.thread_id;
      runs[name] = (await api(server.url, "GET", `/threads/${t.thread_id}/runs`, undefined, key))[0].run_id;
    }
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  async function signIn(key) {
    const page = await newPage(browser, server.url);
    await page.goto("/console/");
    await page.getByTestId("credential").fill(key);
    await page.getByTestId("sign-in").click();
    await page.getByTestId("composer").waitFor();
    return page;
  }

  test("each tenant sees only its own threads", async () => {
    const acme = await signIn(ACME);
    assert.equal(await acme.getByTestId("tenant").innerText(), "acme");
    await acme.locator(`[data-thread-id="${threads.acme}"]`).waitFor();
    assert.equal(await acme.locator(`[data-thread-id="${threads.globex}"]`).count(), 0);
    await shot(acme, "auth-acme-threads");

    const globex = await signIn(GLOBEX);
    assert.equal(await globex.getByTestId("tenant").innerText(), "globex");
    await globex.locator(`[data-thread-id="${threads.globex}"]`).waitFor();
    assert.equal(await globex.locator(`[data-thread-id="${threads.acme}"]`).count(), 0);
    // Opening the other tenant's thread by URL shows nothing of it.
    await globex.goto(`/console/threads/${threads.acme}`);
    await globex.getByTestId("composer").waitFor();
    await waitFor("the thread load to settle", async () => (await globex.getByTestId("msg-human").count()) === 0);

    // Operations: the admin tenant only.
    await globex.getByTestId("nav-ops").click();
    await globex.getByTestId("ops-forbidden").waitFor();
    await acme.getByTestId("nav-ops").click();
    await waitFor("acme's ops stream to go live (stream token)", async () => (await acme.getByTestId("ops-status").innerText()) === "live");
    await acme.close();
    await globex.close();
  });

  test("a wrong key is refused at sign-in", async () => {
    const page = await newPage(browser, server.url);
    await page.goto("/console/");
    await page.getByTestId("credential").fill("not-a-key");
    await page.getByTestId("sign-in").click();
    await waitFor("the refusal", async () => /invalid API key/i.test(await page.locator(".signin").innerText()));
    await page.close();
  });

  test("Chromium follows SSE and WebSocket with a stream token, and not without", async () => {
    const page = await newPage(browser, server.url);
    await page.goto("/console/");  // same origin for fetch, EventSource, WebSocket and the cookie
    const result = await page.evaluate(async ({ key }) => {
      const out = {};
      const mint = async () => {
        const r = await fetch("/auth/stream-token", { method: "POST", headers: { "x-api-key": key } });
        return (await r.json()).token;
      };
      const publish = (channel, data) =>
        fetch(`/broadcast/${channel}`, { method: "POST", headers: { "x-api-key": key, "Content-Type": "application/json" }, body: JSON.stringify({ data }) });
      const bounded = (p, ms, what) => Promise.race([p, new Promise((_, rej) => setTimeout(() => rej(new Error(`timeout: ${what}`)), ms))]);

      // Without a token (and before any mint set the cookie) both are refused: 401.
      out.sseWithout = await bounded(new Promise((resolve) => {
        const bare = new EventSource("/broadcast/quiet/stream");
        bare.onopen = () => { bare.close(); resolve("opened"); };
        bare.onerror = () => { const s = bare.readyState; bare.close(); resolve(s === EventSource.CLOSED ? "refused" : "error"); };
      }), 10000, "bare sse");
      out.wsWithout = await bounded(new Promise((resolve) => {
        const bare = new WebSocket(`ws://${location.host}/broadcast/quiet/ws`);
        bare.onopen = () => { bare.close(); resolve("opened"); };
        bare.onerror = () => resolve("refused");
      }), 10000, "bare ws");

      // SSE with ?access_token=: a published message arrives.
      const token = await mint();
      const es = new EventSource(`/broadcast/board/stream?access_token=${encodeURIComponent(token)}`);
      const sse = new Promise((resolve, reject) => {
        es.addEventListener("message", (e) => resolve(JSON.parse(e.data)));
        es.onerror = () => reject(new Error("sse error"));
      });
      await bounded(new Promise((r) => (es.onopen = r)), 10000, "sse open");
      await publish("board", { hello: "sse" });
      out.sse = (await bounded(sse, 10000, "sse message")).data;
      es.close();

      // WebSocket with ?access_token=.
      const ws = new WebSocket(`ws://${location.host}/broadcast/board/ws?access_token=${encodeURIComponent(await mint())}`);
      await bounded(new Promise((res, rej) => { ws.onopen = res; ws.onerror = () => rej(new Error("ws error")); }), 10000, "ws open");
      const wsMessage = new Promise((r) => (ws.onmessage = (e) => r(JSON.parse(e.data))));
      await publish("board", { hello: "ws" });
      out.ws = (await bounded(wsMessage, 10000, "ws message")).data;
      ws.close();

      // A forged token is refused too.
      out.forged = await bounded(new Promise((resolve) => {
        const bad = new EventSource(`/broadcast/quiet/stream?access_token=${encodeURIComponent(token.slice(0, -4) + "AAAA")}`);
        bad.onopen = () => { bad.close(); resolve("opened"); };
        bad.onerror = () => { bad.close(); resolve("refused"); };
      }), 10000, "forged sse");

      // The cookie the mint set (HttpOnly, SameSite=Strict) opens a stream with no token in the URL.
      await mint();
      const viaCookie = new EventSource("/broadcast/cookie/stream");
      const cookieMessage = new Promise((resolve, reject) => {
        viaCookie.addEventListener("message", (e) => resolve(JSON.parse(e.data)));
        viaCookie.onerror = () => reject(new Error("cookie sse refused"));
      });
      await bounded(new Promise((r) => (viaCookie.onopen = r)), 10000, "cookie sse open");
      await publish("cookie", { hello: "cookie" });
      out.cookie = (await bounded(cookieMessage, 10000, "cookie message")).data;
      viaCookie.close();
      return out;
    }, { key: ACME });
    assert.deepEqual(result.sse, { hello: "sse" });
    assert.deepEqual(result.ws, { hello: "ws" });
    assert.deepEqual(result.cookie, { hello: "cookie" });
    assert.equal(result.sseWithout, "refused");
    assert.equal(result.wsWithout, "refused");
    assert.equal(result.forged, "refused");
    await page.close();
  });

  test("a stream token is scoped to its tenant and opens no write route", async () => {
    const { token } = await api(server.url, "POST", "/auth/stream-token", {}, GLOBEX);
    const join = (tenant, tok) => fetch(`${server.url}/threads/${threads[tenant]}/runs/${runs[tenant]}/stream?access_token=${tok}`);
    // globex joins its own run's stream with the token, and not acme's.
    // (A run stream answers 200 either way; another tenant's run is an `error` event, as an
    // unknown run is: agent-protocol.md.)
    const own = await join("globex", token);
    assert.equal(own.status, 200);
    assert.match(own.headers.get("content-type"), /text\/event-stream/);
    const ownBody = await own.text();
    assert.match(ownBody, /globex says hi/);
    const other = await join("acme", token);
    const otherBody = await other.text();
    assert.doesNotMatch(otherBody, /acme says hi/);
    assert.match(otherBody, /NotFoundError/);
    // Not accepted on other routes, even GETs.
    const list = await fetch(`${server.url}/threads/${threads.globex}?access_token=${token}`);
    assert.equal(list.status, 401);
    const post = await fetch(`${server.url}/threads?access_token=${token}`, { method: "POST", body: "{}" });
    assert.equal(post.status, 401);
  });
});
