// Real `agentd serve` instances in cluster mode (PostgreSQL storage + Redis bus) for the cluster
// e2e suite: started on free loopback ports, each logging to its own file, stopped by PID. The
// services come from tests/harness/with-services (AGENTD_TEST_PG_DSN, AGENTD_TEST_REDIS_URL);
// cluster/run.sh starts them.
import { spawn } from "node:child_process";
import { mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const kRepo = resolve(import.meta.dirname, "../../..");
export const kAgentdBin = process.env.AGENTD_BIN ?? join(kRepo, "build/agentd");

// The services, or a reason to skip.
export function Services() {
  const pg = process.env.AGENTD_TEST_PG_DSN;
  const redis = process.env.AGENTD_TEST_REDIS_URL;
  if (!pg || !redis) {
    return { skip: "AGENTD_TEST_PG_DSN / AGENTD_TEST_REDIS_URL not set: run tests/e2e/cluster/run.sh" };
  }
  return { pg, redis };
}

// A loopback port that was free a moment ago (the instance binding it fails loudly otherwise).
function FreePort() {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => ok(port));
    });
  });
}

// Polls `probe` (an async predicate) every 50 ms until it holds or `boundMs` passed.
export async function WaitFor(probe, boundMs, what) {
  const deadline = Date.now() + boundMs;
  for (;;) {
    if (await probe()) return;
    if (Date.now() >= deadline) throw new Error(`timed out after ${boundMs} ms waiting for ${what}`);
    await new Promise((done) => setTimeout(done, 50));
  }
}

// Only the flags below and agentd's defaults: never a developer's AGENTD_* settings.
function HermeticEnv() {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith("AGENTD_")) env[k] = v;
  }
  return env;
}

export class Cluster {
  // `count` instances on one database and one Redis; `leaseMs` is --cluster-lease-ms (short, so
  // an instance killed with SIGKILL has its runs adopted within seconds).
  constructor({ count = 3, leaseMs = 1500 } = {}) {
    this.count = count;
    this.leaseMs = leaseMs;
    this.nodes = [];
    this.dir = mkdtempSync(join(tmpdir(), "agentd-e2e-cluster-"));
  }

  async Start(services) {
    const names = ["A", "B", "C", "D", "E"];
    for (let i = 0; i < this.count; ++i) {
      const name = names[i];
      const port = await FreePort();
      const log = join(this.dir, `${name}.log`);
      const fd = openSync(log, "a");
      const child = spawn(kAgentdBin, [
        "serve", "--storage", services.pg, "--bus", services.redis, "--port", String(port),
        "--threads", "1", "--cluster-lease-ms", String(this.leaseMs), "--log-level", "info",
      ], { cwd: this.dir, env: HermeticEnv(), stdio: ["ignore", fd, fd] });
      const node = { name, port, log, child, pid: child.pid, url: `http://127.0.0.1:${port}`, exited: false };
      child.on("exit", () => { node.exited = true; });
      this.nodes.push(node);
    }
    for (const node of this.nodes) {
      await WaitFor(async () => {
        if (node.exited) throw new Error(`instance ${node.name} exited at start\n${this.LogTail(node)}`);
        try {
          const r = await fetch(`${node.url}/ok`, { signal: AbortSignal.timeout(1000) });
          return r.status === 200;
        } catch {
          return false;
        }
      }, 60_000, `instance ${node.name} to answer GET /ok`);
    }
  }

  // SIGKILL by PID, then wait (bounded) until it is gone.
  async Kill(node, signal = "SIGKILL") {
    if (node.exited) return;
    process.kill(node.pid, signal);
    await WaitFor(async () => node.exited, 10_000, `instance ${node.name} to exit`);
  }

  // Every instance still running: SIGTERM, a bounded wait, then SIGKILL. Keeps the logs of a
  // failed run (the caller decides), removes them otherwise.
  async Stop({ keepLogs = false } = {}) {
    for (const node of this.nodes) {
      if (!node.exited) process.kill(node.pid, "SIGTERM");
    }
    for (const node of this.nodes) {
      try {
        await WaitFor(async () => node.exited, 15_000, `instance ${node.name} to stop`);
      } catch {
        if (!node.exited) process.kill(node.pid, "SIGKILL");
      }
    }
    if (keepLogs) {
      console.error(`cluster logs kept in ${this.dir}`);
    } else {
      rmSync(this.dir, { recursive: true, force: true });
    }
  }

  LogTail(node, bytes = 3000) {
    try {
      const all = readFileSync(node.log, "utf8");
      return `--- ${node.name} (${node.url}, pid ${node.pid}) ---\n${all.slice(-bytes)}`;
    } catch {
      return `--- ${node.name}: no log ---`;
    }
  }

  Logs() {
    return this.nodes.map((n) => this.LogTail(n)).join("\n");
  }
}
