// Live operations: one EventSource on GET /console/api/ops/stream (admin only). The server
// samples once per interval for every viewer; the page keeps the last samples and draws them.
// Counters arrive cumulative and are turned into per-second rates here.
import { useEffect, useMemo, useRef, useState } from "react";
import { Credential, Session, streamToken, withToken } from "../api";
import { navigate } from "../router";
import { LineChart, Series, formatNumber } from "../components/Chart";

type Counts = Record<string, number>;
type Latency = { count: number; interval_count: number; p50_ms: number | null; p95_ms: number | null; p99_ms: number | null; mean_ms: number | null };
interface RunRow {
  run_id: string;
  thread_id: string;
  assistant_id: string;
  tenant: string;
  tier: string;
  state: string;
  created_at: number;
  attempt: number;
  queue_position?: number;
  estimated_wait_ms?: number;
}
interface Sample {
  t: number;
  seq: number;
  admission?: { executing: number; queued: number; waiting: number; saturated: boolean; active_total: number };
  runs?: RunRow[];
  tenants?: Array<{ tier: string; tenant: string; running: number; queued: number; behind_thread: number; starting: number }>;
  cluster?: { instance: string; leases_current: boolean; leases_problem: string; runs_held: number; runs_active: number };
  instances?: Array<{
    instance: string;
    version: string;
    t: number;
    executing?: number;
    queued?: number;
    active?: number;
    saturated?: boolean;
    runs_held?: number;
    leases_current?: boolean;
    leases_problem?: string;
    max_loop_lag_ms: number;
    stalled: boolean;
  }>;
  loops: Array<{ index: number; lag_ms: number; stalled: boolean }>;
  refusals: { admission?: Counts; rate_limit?: Counts; auth?: Counts };
  runs_total: Counts;
  queue_wait?: Record<string, Latency>;
  models: Array<{
    model: string;
    requests?: Counts;
    retries?: Counts;
    tokens?: Counts;
    attempts?: number;
    in_flight?: number;
    degraded?: boolean;
    latency?: Latency;
    ttft?: Latency;
    queue_wait?: Latency;
  }>;
  mcp?: Array<{
    server: string;
    up?: boolean;
    tools?: number;
    calls?: Counts;
    restarts?: number;
    tools_refused?: number;
    protocol_errors?: number;
    latency?: Latency;
  }>;
  storage: { ping_ms: number | null; error?: string; counters?: Counts };
  broadcast?: { channels: number; subscribers: number; healthy: boolean } & Counts;
  http: { requests: number; open_connections: number };
  degraded: Record<string, boolean>;
}
interface Hello {
  version: string;
  interval_ms: number;
  loops: number;
  storage: string;
  bus: string;
  instance: string;
  clustered: boolean;
  limits: { max_active_runs: number; max_queued_runs: number; queue_timeout_ms: number; default_tier: string; tiers: Array<{ name: string; max_concurrent_runs: number; max_queued_runs: number; priority: number }> };
}

const KEEP = 300;
const COLORS = ["#3b82f6", "#f59e0b", "#10b981", "#ef4444", "#8b5cf6", "#06b6d4", "#e11d48", "#84cc16"];
const sum = (c?: Counts) => Object.values(c ?? {}).reduce((a, b) => a + b, 0);

export function Operations(props: { credential: Credential; session: Session }) {
  const [hello, setHello] = useState<Hello>();
  const [samples, setSamples] = useState<Sample[]>([]);
  const [status, setStatus] = useState<"connecting" | "live" | "reconnecting">("connecting");
  const [problem, setProblem] = useState<string>();
  const attempt = useRef(0);

  useEffect(() => {
    if (!props.session.admin) return;
    let es: EventSource | undefined;
    let timer: number | undefined;
    let closed = false;
    const connect = async () => {
      try {
        const path = "/console/api/ops/stream";
        const url = props.session.auth === "required" ? withToken(path, await streamToken(props.credential)) : path;
        if (closed) return;
        es = new EventSource(url);
        es.addEventListener("hello", (e) => {
          setHello(JSON.parse((e as MessageEvent).data));
          setStatus("live");
          setProblem(undefined);
          attempt.current = 0;
        });
        es.addEventListener("sample", (e) => {
          const s = JSON.parse((e as MessageEvent).data) as Sample;
          setSamples((prev) => {
            if (prev.length && prev[prev.length - 1].seq >= s.seq) return prev;
            const next = prev.length >= KEEP ? prev.slice(prev.length - KEEP + 1) : prev.slice();
            next.push(s);
            return next;
          });
        });
        es.onerror = () => {
          // A stream token expires; a restarted server forgets them: reconnect with a new one.
          if (es && es.readyState === EventSource.CLOSED && !closed) {
            setStatus("reconnecting");
            timer = window.setTimeout(() => void connect(), Math.min(10_000, 500 * 2 ** attempt.current++));
          }
        };
      } catch (e) {
        setProblem(String(e));
        setStatus("reconnecting");
        timer = window.setTimeout(() => void connect(), Math.min(10_000, 500 * 2 ** attempt.current++));
      }
    };
    void connect();
    return () => {
      closed = true;
      es?.close();
      if (timer) window.clearTimeout(timer);
    };
  }, [props.credential, props.session]);

  if (!props.session.admin) {
    return (
      <div className="center card narrow" data-testid="ops-forbidden">
        <h3>Operations need an admin credential</h3>
        <p className="muted">
          This view shows every tenant's runs and limits. Sign in with a key of a tenant listed in <code>console_admin_tenants</code>.
        </p>
      </div>
    );
  }
  const last = samples[samples.length - 1];
  return (
    <div className="ops" data-testid="ops" data-samples={samples.length}>
      <div className="ops-head">
        <h2>Operations</h2>
        <span className={`pill ${status}`} data-testid="ops-status">
          {status}
        </span>
        {hello && (
          <span className="muted small">
            {hello.instance ? `instance ${hello.instance} · ` : ""}storage {hello.storage} · bus {hello.bus} · {hello.loops} event loops · sampled every{" "}
            {hello.interval_ms} ms
          </span>
        )}
        {problem && <span className="error small">{problem}</span>}
      </div>
      {!last && <div className="muted center">Waiting for the first sample…</div>}
      {last && hello && <Dashboard hello={hello} samples={samples} last={last} />}
    </div>
  );
}

function rate(samples: Sample[], pick: (s: Sample) => number): Array<number | null> {
  return samples.map((s, i) => {
    if (i === 0) return null;
    const dt = (s.t - samples[i - 1].t) / 1000;
    if (dt <= 0) return null;
    return Math.max(0, (pick(s) - pick(samples[i - 1])) / dt);
  });
}

function Dashboard({ hello, samples, last }: { hello: Hello; samples: Sample[]; last: Sample }) {
  const adm = last.admission;
  const models = useMemo(() => Array.from(new Set(samples.flatMap((s) => s.models.map((m) => m.model)))), [samples]);
  const limits = hello.limits;
  const refusalSeries: Series[] = [
    { name: "admission", color: COLORS[3], points: rate(samples, (s) => sum(s.refusals.admission)) },
    { name: "rate limit", color: COLORS[1], points: rate(samples, (s) => sum(s.refusals.rate_limit)) },
    { name: "auth", color: COLORS[4], points: rate(samples, (s) => sum(s.refusals.auth)) },
  ];
  return (
    <>
      <div className="kpis">
        <Kpi label="executing" value={adm?.executing ?? 0} of={limits.max_active_runs} testId="kpi-executing" />
        <Kpi label="queued" value={adm?.queued ?? 0} of={limits.max_queued_runs} warn={!!adm?.queued} testId="kpi-queued" />
        <Kpi label="active runs" value={adm?.active_total ?? 0} />
        <Kpi label="saturated" value={adm?.saturated ? "yes" : "no"} warn={adm?.saturated} />
        <Kpi label="refused (total)" value={sum(last.refusals.admission) + sum(last.refusals.rate_limit)} />
        <Kpi label="storage ping" value={last.storage.ping_ms == null ? "–" : `${formatNumber(last.storage.ping_ms)} ms`} warn={!!last.storage.error} />
        <Kpi label="connections" value={last.http.open_connections} />
        {last.broadcast && <Kpi label="broadcast subs" value={last.broadcast.subscribers} />}
      </div>
      <div className="charts">
        <LineChart
          title="Runs"
          testId="chart-runs"
          series={[
            { name: "executing", color: COLORS[0], points: samples.map((s) => s.admission?.executing ?? 0) },
            { name: "queued", color: COLORS[1], points: samples.map((s) => s.admission?.queued ?? 0) },
            { name: "behind thread", color: COLORS[4], points: samples.map((s) => (s.admission ? s.admission.waiting - s.admission.queued : 0)) },
          ]}
        />
        <LineChart
          title="Event-loop lag"
          unit="ms"
          testId="chart-lag"
          series={Array.from({ length: hello.loops }, (_, i) => ({
            name: `loop ${i}`,
            color: COLORS[i % COLORS.length],
            points: samples.map((s) => s.loops[i]?.lag_ms ?? null),
          }))}
        />
        <LineChart title="Refusals" unit="/s" series={refusalSeries} testId="chart-refusals" />
        <LineChart
          title="Requests"
          unit="/s"
          series={[{ name: "HTTP", color: COLORS[2], points: rate(samples, (s) => s.http.requests) }]}
        />
        {models.map((name, mi) => (
          <LineChart
            key={name}
            title={`LLM ${name}`}
            unit="ms"
            testId={`chart-llm-${name}`}
            series={[
              { name: "latency p50", color: COLORS[(mi * 3) % COLORS.length], points: samples.map((s) => s.models.find((m) => m.model === name)?.latency?.p50_ms ?? null) },
              { name: "p95", color: COLORS[(mi * 3 + 1) % COLORS.length], points: samples.map((s) => s.models.find((m) => m.model === name)?.latency?.p95_ms ?? null) },
              { name: "TTFT p50", color: COLORS[(mi * 3 + 2) % COLORS.length], points: samples.map((s) => s.models.find((m) => m.model === name)?.ttft?.p50_ms ?? null) },
            ]}
          />
        ))}
        <LineChart
          title="Storage ping"
          unit="ms"
          series={[{ name: "round trip", color: COLORS[5], points: samples.map((s) => s.storage.ping_ms) }]}
        />
      </div>
      <div className="tables">
        <section className="card">
          <h3>
            Active runs <span className="muted small">({adm?.active_total ?? 0})</span>
          </h3>
          <table data-testid="ops-runs">
            <thead>
              <tr>
                <th>state</th>
                <th>queue</th>
                <th>tenant</th>
                <th>tier</th>
                <th>assistant</th>
                <th>run</th>
                <th>age</th>
              </tr>
            </thead>
            <tbody>
              {(last.runs ?? []).map((r) => (
                <tr key={r.run_id} data-run-id={r.run_id} data-state={r.state}>
                  <td>
                    <span className={`pill ${r.state}`}>{r.state.replace("_", " ")}</span>
                  </td>
                  <td>{r.queue_position ? `#${r.queue_position} · ~${formatNumber((r.estimated_wait_ms ?? 0) / 1000)}s` : ""}</td>
                  <td>{r.tenant || <span className="muted">(none)</span>}</td>
                  <td>{r.tier}</td>
                  <td className="small">{r.assistant_id.slice(0, 8)}</td>
                  <td>
                    <button className="link" onClick={() => navigate({ name: "run", threadId: r.thread_id, runId: r.run_id })}>
                      <code>{r.run_id.slice(0, 8)}</code>
                    </button>
                  </td>
                  <td className="small">{r.created_at ? `${Math.max(0, Math.round((last.t - r.created_at) / 1000))}s` : ""}</td>
                </tr>
              ))}
              {(last.runs ?? []).length === 0 && (
                <tr>
                  <td colSpan={7} className="muted">
                    No active runs.
                  </td>
                </tr>
              )}
            </tbody>
          </table>
        </section>
        <section className="card">
          <h3>By tier and tenant</h3>
          <table>
            <thead>
              <tr>
                <th>tier</th>
                <th>tenant</th>
                <th>running</th>
                <th>queued</th>
                <th>behind thread</th>
                <th>tier limit</th>
              </tr>
            </thead>
            <tbody>
              {(last.tenants ?? []).map((g) => {
                const tier = limits.tiers.find((t) => t.name === g.tier);
                return (
                  <tr key={g.tier + "/" + g.tenant}>
                    <td>{g.tier}</td>
                    <td>{g.tenant || <span className="muted">(none)</span>}</td>
                    <td>{g.running + g.starting}</td>
                    <td>{g.queued}</td>
                    <td>{g.behind_thread}</td>
                    <td className="small muted">{tier ? `${tier.max_concurrent_runs || "∞"} running · ${tier.max_queued_runs || "∞"} queued` : ""}</td>
                  </tr>
                );
              })}
              {(last.tenants ?? []).length === 0 && (
                <tr>
                  <td colSpan={6} className="muted">
                    Nothing running.
                  </td>
                </tr>
              )}
            </tbody>
          </table>
          <h3>Refusals (since start)</h3>
          <CountsTable groups={{ admission: last.refusals.admission, "rate limit": last.refusals.rate_limit, auth: last.refusals.auth }} />
          <h3>Runs ended (since start)</h3>
          <CountsTable groups={{ status: last.runs_total }} />
        </section>
        <section className="card">
          <h3>Models</h3>
          <table data-testid="ops-models">
            <thead>
              <tr>
                <th>model</th>
                <th>ok</th>
                <th>errors</th>
                <th>retries</th>
                <th>in flight</th>
                <th>tokens in/out</th>
                <th>p50 / p95</th>
                <th>TTFT p50</th>
              </tr>
            </thead>
            <tbody>
              {last.models.map((m) => (
                <tr key={m.model}>
                  <td>
                    {m.model} {m.degraded && <span className="pill error">degraded</span>}
                  </td>
                  <td>{m.requests?.success ?? 0}</td>
                  <td>{(m.requests?.error ?? 0) + (m.requests?.rate_limited ?? 0)}</td>
                  <td>{sum(m.retries)}</td>
                  <td>{m.in_flight ?? 0}</td>
                  <td>
                    {formatNumber(m.tokens?.input ?? 0)} / {formatNumber(m.tokens?.output ?? 0)}
                  </td>
                  <td>{ms(recent(samples, m.model, "latency", "p50_ms"))} / {ms(recent(samples, m.model, "latency", "p95_ms"))}</td>
                  <td>{ms(recent(samples, m.model, "ttft", "p50_ms"))}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {last.mcp && last.mcp.length > 0 && (
            <>
              <h3>MCP servers</h3>
              <table data-testid="ops-mcp">
                <thead>
                  <tr>
                    <th>server</th>
                    <th>state</th>
                    <th>tools</th>
                    <th>calls ok</th>
                    <th>errors</th>
                    <th>restarts</th>
                    <th>p50 / p95</th>
                  </tr>
                </thead>
                <tbody>
                  {last.mcp.map((m) => (
                    <tr key={m.server} data-mcp-server={m.server}>
                      <td>{m.server}</td>
                      <td>{m.up ? <span className="pill">up</span> : <span className="pill error">down</span>}</td>
                      <td>{m.tools ?? 0}</td>
                      <td>{m.calls?.success ?? 0}</td>
                      <td>{(m.calls?.error ?? 0) + (m.calls?.timeout ?? 0) + (m.calls?.cancelled ?? 0) + (m.protocol_errors ?? 0)}</td>
                      <td>{m.restarts ?? 0}</td>
                      <td>{ms(m.latency?.p50_ms ?? null)} / {ms(m.latency?.p95_ms ?? null)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </>
          )}
          {last.broadcast && (
            <>
              <h3>Broadcast</h3>
              <div className="small">
                {last.broadcast.channels} channels · {last.broadcast.subscribers} subscribers · {last.broadcast.published_total ?? 0} published ·{" "}
                {last.broadcast.messages_dropped_total ?? 0} dropped {last.broadcast.healthy ? "" : <span className="pill error">bus down</span>}
              </div>
            </>
          )}
          {Object.keys(last.degraded).length > 0 && (
            <>
              <h3>Degraded modes</h3>
              <div className="small">
                {Object.entries(last.degraded).map(([k, v]) => (
                  <span key={k} className={`pill ${v ? "error" : "success"}`}>
                    {k}: {v ? "degraded" : "ok"}
                  </span>
                ))}
              </div>
            </>
          )}
          {last.instances && (
            <>
              <h3>Cluster instances ({last.instances.length})</h3>
              <table data-testid="ops-cluster">
                <thead>
                  <tr>
                    <th>instance</th>
                    <th>executing</th>
                    <th>queued</th>
                    <th>leases held</th>
                    <th>leases</th>
                    <th>max loop lag</th>
                  </tr>
                </thead>
                <tbody>
                  {last.instances.map((i, n) => (
                    <tr key={i.instance} data-instance={i.instance}>
                      <td>
                        <code>{i.instance}</code> {n === 0 && <span className="muted small">(this one)</span>}
                      </td>
                      <td>{i.executing ?? "–"}</td>
                      <td>{i.queued ?? "–"}</td>
                      <td>{i.runs_held ?? "–"}</td>
                      <td>{i.leases_current ? <span className="pill success">current</span> : <span className="pill error">{i.leases_problem || "stale"}</span>}</td>
                      <td>{i.stalled ? <span className="pill error">stalled</span> : `${formatNumber(i.max_loop_lag_ms)} ms`}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </>
          )}
        </section>
      </div>
    </>
  );
}

// The newest interval quantile a model has (intervals without calls have none).
function recent(samples: Sample[], model: string, which: "latency" | "ttft", q: "p50_ms" | "p95_ms"): number | null {
  for (let i = samples.length - 1; i >= 0; i--) {
    const v = samples[i].models.find((m) => m.model === model)?.[which]?.[q];
    if (v != null) return v;
  }
  return null;
}

function ms(v: number | null | undefined) {
  return v == null ? "–" : `${formatNumber(v)} ms`;
}

function Kpi(props: { label: string; value: number | string; of?: number; warn?: boolean; testId?: string }) {
  return (
    <div className={props.warn ? "kpi warn" : "kpi"} data-testid={props.testId}>
      <div className="kpi-value">
        {typeof props.value === "number" ? formatNumber(props.value) : props.value}
        {props.of ? <span className="muted small"> / {props.of}</span> : null}
      </div>
      <div className="kpi-label">{props.label}</div>
    </div>
  );
}

function CountsTable(props: { groups: Record<string, Counts | undefined> }) {
  const rows = Object.entries(props.groups).flatMap(([g, c]) => Object.entries(c ?? {}).map(([k, v]) => [g, k, v] as const));
  if (rows.length === 0) return <div className="muted small">none</div>;
  return (
    <table className="compact">
      <tbody>
        {rows.map(([g, k, v]) => (
          <tr key={g + k}>
            <td className="muted">{g}</td>
            <td>{k}</td>
            <td>{v}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
