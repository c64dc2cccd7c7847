// One run's trace (GET /threads/{thread_id}/runs/{run_id}/trace): a waterfall of its nodes,
// model calls, tool calls and checkpoint writes, the queue wait, and where it failed.
import { useEffect, useState } from "react";
import type { Client, Run } from "@langchain/langgraph-sdk";
import { Credential, HttpError, getJson } from "../api";
import { navigate } from "../router";
import { JsonView } from "../components/JsonView";
import { formatNumber } from "../components/Chart";

interface Span {
  kind: "node" | "model" | "tool" | "checkpoint";
  name?: string;
  step?: number;
  start_ms: number;
  duration_ms?: number | null;
  status?: string;
  error?: string;
  // model
  ttft_ms?: number | null;
  prompt_messages?: number;
  prompt_chars?: number;
  tools_offered?: number;
  input_tokens?: number | null;
  output_tokens?: number | null;
  finish_reason?: string;
  tool_calls?: number;
  restarts?: number;
  // tool
  call_id?: string;
  args?: unknown;
  result?: string;
  // checkpoint
  checkpoint_id?: string;
  source?: string;
}
interface Trace {
  run_id: string;
  thread_id: string;
  assistant_id: string;
  graph_id: string;
  attempt: number;
  status: string;
  created_at: string;
  started_at: string | null;
  ended_at: string | null;
  queue_wait_ms: number | null;
  duration_ms: number | null;
  usage: { input_tokens: number | null; output_tokens: number | null };
  error: { type: string; message: string; node?: string; step?: number } | null;
  spans: Span[];
  dropped_spans: number;
  truncated: boolean;
}

export function RunInspector(props: { client: Client; credential: Credential; threadId: string; runId: string }) {
  const [trace, setTrace] = useState<Trace>();
  const [run, setRun] = useState<Run>();
  const [problem, setProblem] = useState<string>();
  const [selected, setSelected] = useState<number>();

  useEffect(() => {
    let stop = false;
    let timer: number | undefined;
    const load = async () => {
      try {
        const t = await getJson<Trace>(props.credential, `/threads/${props.threadId}/runs/${props.runId}/trace`);
        if (stop) return;
        setTrace(t);
        setProblem(undefined);
        // A run still executing: look again shortly.
        if (t.status === "running" || t.status === "pending") timer = window.setTimeout(load, 1000);
      } catch (e) {
        if (!stop) setProblem(e instanceof HttpError ? HttpError.detail(e.body) : String(e));
      }
    };
    void load();
    props.client.runs.get(props.threadId, props.runId).then(setRun).catch(() => undefined);
    return () => {
      stop = true;
      if (timer) window.clearTimeout(timer);
    };
  }, [props.client, props.credential, props.threadId, props.runId]);

  const total = trace ? Math.max(1, trace.duration_ms ?? 0, ...trace.spans.map((s) => s.start_ms + (s.duration_ms ?? 0))) : 1;
  const sel = selected != null ? trace?.spans[selected] : undefined;
  return (
    <div className="inspector-page" data-testid="run-inspector">
      <div className="ops-head">
        <button className="link" onClick={() => navigate({ name: "playground", threadId: props.threadId })}>
          ← thread {props.threadId.slice(0, 8)}
        </button>
        <h2>
          Run <code>{props.runId.slice(0, 8)}</code>
        </h2>
        {trace && (
          <span className={`pill ${trace.status}`} data-testid="trace-status">
            {trace.status}
          </span>
        )}
      </div>
      {problem && (
        <div className="card">
          <div className="error" data-testid="trace-problem">
            {problem}
          </div>
          {run && (
            <p className="small muted">
              The run itself: status {run.status}, created {run.created_at}.
            </p>
          )}
        </div>
      )}
      {trace && (
        <>
          <div className="kpis">
            <Stat label="graph" value={trace.graph_id} />
            <Stat label="attempt" value={String(trace.attempt)} />
            <Stat label="queue wait" value={trace.queue_wait_ms == null ? "–" : `${formatNumber(trace.queue_wait_ms)} ms`} />
            <Stat label="duration" value={trace.duration_ms == null ? "running" : `${formatNumber(trace.duration_ms)} ms`} />
            <Stat label="tokens in / out" value={`${trace.usage.input_tokens ?? "–"} / ${trace.usage.output_tokens ?? "–"}`} />
            <Stat label="spans" value={`${trace.spans.length}${trace.dropped_spans ? ` (+${trace.dropped_spans} dropped)` : ""}`} />
          </div>
          {trace.error && (
            <div className="card error-card" data-testid="trace-error">
              <b>{trace.error.type}</b>
              {trace.error.node && (
                <span>
                  {" "}
                  in node <code>{trace.error.node}</code> at step {trace.error.step}
                </span>
              )}
              <pre>{trace.error.message}</pre>
            </div>
          )}
          <div className="trace-layout">
            <section className="card waterfall" data-testid="waterfall">
              {trace.spans.map((s, i) => (
                <button key={i} className={`span-row ${s.kind} ${selected === i ? "active" : ""}`} onClick={() => setSelected(i)} data-kind={s.kind}>
                  <span className="span-label">
                    <span className={`kind ${s.kind}`}>{s.kind}</span> {label(s)}
                  </span>
                  <span className="span-track">
                    <span
                      className={`span-bar ${s.kind} ${s.status ?? ""}`}
                      style={{
                        left: `${(100 * s.start_ms) / total}%`,
                        width: s.kind === "checkpoint" ? "2px" : `${Math.max(0.5, (100 * (s.duration_ms ?? 0)) / total)}%`,
                      }}
                    />
                  </span>
                  <span className="span-time small">{s.duration_ms != null ? `${formatNumber(s.duration_ms)} ms` : s.kind === "checkpoint" ? `@${formatNumber(s.start_ms)}` : ""}</span>
                </button>
              ))}
              {trace.spans.length === 0 && <div className="muted">No spans recorded.</div>}
              {trace.truncated && <div className="small muted">Some tool arguments or results were cut to keep the trace small.</div>}
            </section>
            <section className="card span-detail" data-testid="span-detail">
              {!sel && <div className="muted small">Select a span.</div>}
              {sel && <SpanDetail span={sel} />}
            </section>
          </div>
        </>
      )}
    </div>
  );
}

function label(s: Span): string {
  switch (s.kind) {
    case "node":
      return `${s.name} · step ${s.step}`;
    case "model":
      return `${s.name}${s.output_tokens != null ? ` · ${s.output_tokens} tok` : ""}`;
    case "tool":
      return `${s.name}`;
    case "checkpoint":
      return `${s.source} · step ${s.step}`;
  }
}

function SpanDetail({ span }: { span: Span }) {
  const rows: Array<[string, React.ReactNode]> = [];
  const add = (k: string, v: unknown) => {
    if (v !== undefined && v !== null && v !== "") rows.push([k, typeof v === "number" ? formatNumber(v) : String(v)]);
  };
  add("kind", span.kind);
  add("name", span.name);
  add("status", span.status);
  add("step", span.step);
  add("start (ms)", span.start_ms);
  add("duration (ms)", span.duration_ms);
  if (span.kind === "model") {
    add("time to first token (ms)", span.ttft_ms);
    add("prompt messages", span.prompt_messages);
    add("prompt size (bytes)", span.prompt_chars);
    add("tools offered", span.tools_offered);
    add("input tokens", span.input_tokens);
    add("output tokens", span.output_tokens);
    add("finish reason", span.finish_reason);
    add("tool calls", span.tool_calls);
    add("restarts", span.restarts);
  }
  add("call id", span.call_id);
  add("checkpoint", span.checkpoint_id);
  add("error", span.error);
  return (
    <div>
      <table className="compact">
        <tbody>
          {rows.map(([k, v]) => (
            <tr key={k}>
              <td className="muted">{k}</td>
              <td>{v}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {span.kind === "tool" && (
        <>
          <div className="section-title">arguments</div>
          <JsonView value={span.args} />
          <div className="section-title">result</div>
          <pre className="result" data-testid="span-result">{span.result}</pre>
        </>
      )}
    </div>
  );
}

function Stat(props: { label: string; value: string }) {
  return (
    <div className="kpi">
      <div className="kpi-value small-value">{props.value}</div>
      <div className="kpi-label">{props.label}</div>
    </div>
  );
}
