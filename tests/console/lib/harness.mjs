// What the console tests share: start build/agentd on a free loopback port (its own temp dir,
// no AGENTD_* from the developer's environment), stop it by PID, launch Debian's Chromium
// through playwright-core, and bounded waits.
import { spawn } from "node:child_process";
import { mkdtempSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

export const REPO = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
export const AGENTD = process.env.AGENTD_BIN ?? join(REPO, "build", "agentd");
export const CHROMIUM = process.env.CHROMIUM_BIN ?? "/usr/bin/chromium";
export const SHOTS = process.env.CONSOLE_SCREENSHOTS ?? join(REPO, "build", "console-screenshots");
mkdirSync(SHOTS, { recursive: true });

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// Polls `check` (sync or async; truthy = done) until it passes or `timeoutMs` elapses.
export async function waitFor(what, check, timeoutMs = 15_000, everyMs = 50) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${last}` : ""}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

// Starts agentd; `config` (an object) becomes a temp config file. Returns { url, stop, log }.
export async function startAgentd({ args = [], config, env = {} } = {}) {
  const dir = mkdtempSync(join(tmpdir(), "agentd-console-"));
  const port = await freePort();
  const argv = ["serve", "--port", String(port), "--storage", "memory", "--log-level", "info", ...args];
  if (config) {
    const path = join(dir, "agentd.json");
    writeFileSync(path, JSON.stringify(config, null, 2));
    argv.push("--config", path);
  }
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("AGENTD_")));
  const logPath = join(dir, "agentd.log");
  const out = openSync(logPath, "w");
  const child = spawn(AGENTD, argv, { cwd: dir, env: { ...clean, ...env }, stdio: ["ignore", out, out] });
  const url = `http://127.0.0.1:${port}`;
  let exited = false;
  child.on("exit", () => (exited = true));
  const log = () => readFileSync(logPath, "utf8");
  await waitFor("agentd to answer GET /ok", async () => {
    if (exited) throw new Error(`agentd exited:\n${log()}`);
    const r = await fetch(`${url}/ok`).catch(() => null);
    return r?.ok;
  }, 20_000);
  const stop = async () => {
    if (!exited) {
      child.kill("SIGTERM");
      await waitFor("agentd to stop", () => exited, 15_000).catch(() => child.kill("SIGKILL"));
    }
    rmSync(dir, { recursive: true, force: true });
  };
  return { url, port, stop, log, pid: child.pid };
}

export async function launchBrowser() {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
  });
}

export async function newPage(browser, url) {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, baseURL: url });
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  page.errors = errors;
  return page;
}

export async function shot(page, name) {
  await page.screenshot({ path: join(SHOTS, `${name}.png`) });
}

// JSON API call with an optional API key; throws on a non-2xx answer.
export async function api(url, method, path, body, key) {
  const headers = { "Content-Type": "application/json" };
  if (key) headers["x-api-key"] = key;
  const r = await fetch(url + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  if (!r.ok) throw new Error(`${method} ${path} -> ${r.status}: ${text}`);
  return text ? JSON.parse(text) : null;
}
