import { useEffect, useMemo, useRef, useState } from "react";
import type { Checkpoint, Client, Message, Run, ThreadState } from "@langchain/langgraph-sdk";
import { useStream } from "@langchain/langgraph-sdk/react";
import { Credential, Session } from "../api";
import { navigate } from "../router";
import { JsonView } from "../components/JsonView";
import { Interrupts } from "./Interrupts";
import { relativeTime } from "./Playground";

type Values = { messages?: Message[] } & Record<string, unknown>;

export function Chat(props: {
  client: Client;
  credential: Credential;
  session: Session;
  assistantId: string;
  threadId?: string;
  onThreadId: (id: string) => void;
  onRunEnded: () => void;
}) {
  // A state edit replaces the history under useStream: remount to load it again. Picking
  // another thread (or a new one) also starts afresh; the thread this chat just created by
  // sending its first message does not (the stream is still running in it).
  const [generation, setGeneration] = useState(0);
  const created = useRef<string | undefined>(undefined);
  const shown = useRef(props.threadId);
  const chatKey = useRef(props.threadId ?? "new");
  if (props.threadId !== shown.current) {
    shown.current = props.threadId;
    if (props.threadId === undefined || props.threadId !== created.current) {
      chatKey.current = `${props.threadId ?? "new"}:${Date.now()}`;
    }
  }
  return (
    <ChatInner
      key={`${chatKey.current}:${generation}`}
      {...props}
      onThreadId={(id) => {
        created.current = id;
        props.onThreadId(id);
      }}
      reload={() => setGeneration((g) => g + 1)}
    />
  );
}

function ChatInner(props: {
  client: Client;
  session: Session;
  assistantId: string;
  threadId?: string;
  onThreadId: (id: string) => void;
  onRunEnded: () => void;
  reload: () => void;
}) {
  const { client, threadId } = props;
  const [lastRun, setLastRun] = useState<{ run_id: string; thread_id: string }>();
  const [breakBeforeTools, setBreakBeforeTools] = useState(false);
  const [forkFrom, setForkFrom] = useState<ThreadState<Values>>();
  const [tab, setTab] = useState<"state" | "history" | "runs">("state");
  const [draft, setDraft] = useState("");
  const [runsVersion, setRunsVersion] = useState(0);

  const stream = useStream<Values>({
    client,
    assistantId: props.assistantId,
    threadId: threadId ?? null,
    onThreadId: props.onThreadId,
    fetchStateHistory: true,
    messagesKey: "messages",
    onCreated: (run) => setLastRun({ run_id: run.run_id, thread_id: run.thread_id }),
    onFinish: () => {
      props.onRunEnded();
      setRunsVersion((v) => v + 1);
    },
    onError: () => setRunsVersion((v) => v + 1),
  });

  const bottom = useRef<HTMLDivElement>(null);
  useEffect(() => {
    bottom.current?.scrollIntoView({ block: "end" });
  }, [stream.messages.length, stream.messages.at(-1)?.content, stream.interrupt]);

  const send = () => {
    const text = draft.trim();
    if (!text) return;
    setDraft("");
    const checkpoint = forkFrom ? checkpointOf(forkFrom) : undefined;
    setForkFrom(undefined);
    void stream.submit(
      { messages: [{ type: "human", content: text }] },
      {
        interruptBefore: breakBeforeTools ? ["tools"] : undefined,
        checkpoint,
        streamResumable: true,
        optimisticValues: (prev) => ({
          ...prev,
          messages: [...(forkFrom ? ((forkFrom.values.messages as Message[]) ?? []) : (prev.messages ?? [])), { type: "human", content: text }],
        }),
      },
    );
  };

  const head = stream.history?.at(-1);  // the SDK's history is oldest first
  const messages = stream.messages.filter((m) => m.type !== "tool");
  return (
    <div className="chat-layout">
      <section className="chat">
        <div className="messages" data-testid="messages">
          {messages.length === 0 && !stream.isThreadLoading && (
            <div className="empty muted">
              <p>
                Say something to <b>{props.assistantId}</b>.
              </p>
              {props.assistantId === "agent" && <p className="small">Try “weather in Paris?” for a tool round.</p>}
            </div>
          )}
          {messages.map((m, i) => (
            <MessageView key={m.id ?? i} message={m} toolCalls={m.type === "ai" ? toolCallsOf(m, stream.messages, stream.isLoading) : []} />
          ))}
          {stream.isLoading && <div className="typing" data-testid="streaming">● ● ●</div>}
          {stream.error != null && (
            <div className="error" data-testid="run-error">
              {errorText(stream.error)}
            </div>
          )}
          {!stream.isLoading && stream.interrupt && (
            <Interrupts
              interrupt={stream.interrupt}
              next={head?.next ?? []}
              onResume={(resume) => void stream.submit(null, { command: { resume }, streamResumable: true })}
              onContinue={() => void stream.submit(null, { streamResumable: true })}
            />
          )}
          <div ref={bottom} />
        </div>
        {lastRun && (
          <div className="run-line small muted">
            last run <code>{lastRun.run_id.slice(0, 8)}</code>{" "}
            {props.session.traces && (
              <button className="link" onClick={() => navigate({ name: "run", threadId: lastRun.thread_id, runId: lastRun.run_id })} data-testid="open-trace">
                open trace →
              </button>
            )}
          </div>
        )}
        {forkFrom && (
          <div className="fork-banner" data-testid="fork-banner">
            Forking from checkpoint <code>{forkFrom.checkpoint.checkpoint_id?.slice(0, 8)}</code> (step{" "}
            {String(forkFrom.metadata?.step ?? "?")}): the next message starts a new branch there.{" "}
            <button className="link" onClick={() => setForkFrom(undefined)}>
              cancel
            </button>
          </div>
        )}
        <form
          className="composer"
          onSubmit={(e) => {
            e.preventDefault();
            send();
          }}
        >
          <textarea
            value={draft}
            placeholder={stream.isLoading ? "Running…" : "Message (Enter to send, Shift+Enter for a new line)"}
            onChange={(e) => setDraft(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === "Enter" && !e.shiftKey) {
                e.preventDefault();
                send();
              }
            }}
            data-testid="composer"
          />
          <div className="composer-actions">
            <label className="small" title="Pause before the tools node runs (a static breakpoint)">
              <input type="checkbox" checked={breakBeforeTools} onChange={(e) => setBreakBeforeTools(e.target.checked)} data-testid="break-before-tools" /> pause before tools
            </label>
            {stream.isLoading ? (
              <button type="button" onClick={() => void stream.stop()} data-testid="stop">
                Stop
              </button>
            ) : (
              <button type="submit" className="primary" disabled={!draft.trim()} data-testid="send">
                Send
              </button>
            )}
          </div>
        </form>
      </section>
      <aside className="inspector">
        <div className="tabs">
          {(["state", "history", "runs"] as const).map((t) => (
            <button key={t} className={tab === t ? "tab active" : "tab"} onClick={() => setTab(t)} data-testid={`tab-${t}`}>
              {t === "state" ? "State" : t === "history" ? "History" : "Runs"}
            </button>
          ))}
        </div>
        {!threadId && <div className="muted small pad">A thread is created with the first message.</div>}
        {threadId && tab === "state" && (
          <StatePanel client={client} threadId={threadId} head={head} values={stream.values} busy={stream.isLoading} onSaved={props.reload} />
        )}
        {threadId && tab === "history" && (
          <HistoryPanel history={stream.history ?? []} onFork={(s) => setForkFrom(s)} />
        )}
        {threadId && tab === "runs" && <RunsPanel client={client} threadId={threadId} version={runsVersion} />}
      </aside>
    </div>
  );
}

function checkpointOf(s: ThreadState<Values>): Omit<Checkpoint, "thread_id"> {
  const { thread_id: _unused, ...rest } = s.checkpoint;
  void _unused;
  return rest;
}

function errorText(e: unknown): string {
  if (e instanceof Error) return e.message;
  if (typeof e === "object" && e && "message" in e) return String((e as { message: unknown }).message);
  return String(e);
}

export function contentText(content: unknown): string {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) {
    return content
      .map((p) => (typeof p === "string" ? p : p && typeof p === "object" && "text" in p ? String((p as { text: unknown }).text) : ""))
      .join("");
  }
  return content == null ? "" : JSON.stringify(content);
}

type ToolCallView = { id: string; call: { name: string; args: unknown }; result?: { content?: unknown; status?: string }; state: string };

// An ai message's tool calls, each with the tool message that answered it (by tool_call_id).
function toolCallsOf(m: Message, all: Message[], running: boolean): ToolCallView[] {
  const calls = (m as { tool_calls?: Array<{ id?: string; name: string; args: unknown }> }).tool_calls ?? [];
  return calls.map((call, i) => {
    const result = all.find((x) => x.type === "tool" && (x as { tool_call_id?: string }).tool_call_id === call.id) as
      | { content?: unknown; status?: string }
      | undefined;
    const state = result ? (result.status === "error" ? "error" : "completed") : running ? "pending" : "not run";
    return { id: call.id ?? `${m.id}-${i}`, call, result, state };
  });
}

function MessageView(props: { message: Message; toolCalls: unknown[] }) {
  const m = props.message;
  const text = contentText(m.content);
  const calls = props.toolCalls as ToolCallView[];
  return (
    <div className={`msg ${m.type}`} data-testid={`msg-${m.type}`}>
      <div className="role">{m.type === "human" ? "you" : m.type === "ai" ? "assistant" : m.type}</div>
      {text && <div className="bubble">{text}</div>}
      {calls.map((tc) => (
        <div key={tc.id} className={`toolcall ${tc.state}`} data-testid="toolcall">
          <div className="toolcall-head">
            <span className="tool-icon">⚙</span> <b>{tc.call.name}</b>
            <span className={`pill ${tc.state}`}>{tc.state}</span>
          </div>
          <div className="kv">
            <span className="muted">args</span>
            <JsonView value={tc.call.args} />
          </div>
          {tc.result && (
            <div className="kv">
              <span className="muted">result</span>
              <pre className="result" data-testid="toolresult">{contentText(tc.result.content)}</pre>
            </div>
          )}
        </div>
      ))}
    </div>
  );
}

function StatePanel(props: { client: Client; threadId: string; head?: ThreadState<Values>; values: Values; busy: boolean; onSaved: () => void }) {
  const [editing, setEditing] = useState(false);
  const [text, setText] = useState("");
  const [asNode, setAsNode] = useState("");
  const [problem, setProblem] = useState<string>();
  const channels = useMemo(() => Object.entries(props.values ?? {}).filter(([k]) => k !== "__interrupt__"), [props.values]);
  const startEdit = () => {
    const editable: Record<string, unknown> = {};
    for (const [k, v] of channels) if (k !== "messages") editable[k] = v;
    setText(JSON.stringify(Object.keys(editable).length ? editable : { messages: [] }, null, 2));
    setEditing(true);
    setProblem(undefined);
  };
  const save = async () => {
    try {
      const values = JSON.parse(text);
      await props.client.threads.updateState(props.threadId, { values, asNode: asNode || undefined });
      setEditing(false);
      props.onSaved();
    } catch (e) {
      setProblem(String(e));
    }
  };
  return (
    <div className="pad state-panel" data-testid="state-panel">
      <div className="row">
        <span className="muted small">next</span> <code>{JSON.stringify(props.head?.next ?? [])}</code>
      </div>
      <div className="row small muted">
        checkpoint <code>{props.head?.checkpoint?.checkpoint_id?.slice(0, 8) ?? "–"}</code>
      </div>
      <div className="section-title">Channels</div>
      {channels.length === 0 && <div className="muted small">empty</div>}
      {channels.map(([k, v]) => (
        <details key={k} open={k !== "messages"} className="channel">
          <summary>
            <code>{k}</code> <span className="muted small">{Array.isArray(v) ? `${v.length} items` : typeof v}</span>
          </summary>
          <JsonView value={v} />
        </details>
      ))}
      {!editing ? (
        <button onClick={startEdit} disabled={props.busy} data-testid="edit-state">
          Edit state…
        </button>
      ) : (
        <div className="edit">
          <div className="small muted">Values to apply through the reducers (messages append by id):</div>
          <textarea className="code" rows={8} value={text} onChange={(e) => setText(e.target.value)} data-testid="state-json" />
          <label className="small">
            as node <input value={asNode} placeholder="(last node)" onChange={(e) => setAsNode(e.target.value)} />
          </label>
          {problem && <div className="error small">{problem}</div>}
          <div className="row">
            <button className="primary" onClick={() => void save()} data-testid="save-state">
              Update state
            </button>
            <button onClick={() => setEditing(false)}>Cancel</button>
          </div>
        </div>
      )}
    </div>
  );
}

function HistoryPanel(props: { history: ThreadState<Values>[]; onFork: (s: ThreadState<Values>) => void }) {
  return (
    <ol className="history pad" data-testid="history">
      {[...props.history].reverse().map((s) => {
        const meta = (s.metadata ?? {}) as Record<string, unknown>;
        const writes = meta.writes && typeof meta.writes === "object" ? Object.keys(meta.writes as object) : [];
        return (
          <li key={s.checkpoint.checkpoint_id ?? ""} className="checkpoint">
            <div className="row">
              <span className="pill">{String(meta.source ?? "?")}</span>
              <span className="small">step {String(meta.step ?? "?")}</span>
              {writes.length > 0 && <span className="small muted">wrote {writes.join(", ")}</span>}
              <span className="grow" />
              <span className="small muted">{relativeTime(s.created_at ?? undefined)}</span>
            </div>
            <div className="row small">
              <code>{s.checkpoint.checkpoint_id?.slice(0, 8)}</code>
              <span className="muted">{(s.values.messages as unknown[] | undefined)?.length ?? 0} msgs</span>
              {s.next.length > 0 && <span className="muted">next {s.next.join(", ")}</span>}
              <span className="grow" />
              <button className="link" onClick={() => props.onFork(s)} data-testid="fork">
                fork here
              </button>
            </div>
          </li>
        );
      })}
      {props.history.length === 0 && <li className="muted small">No checkpoints yet.</li>}
    </ol>
  );
}

function RunsPanel(props: { client: Client; threadId: string; version: number }) {
  const [runs, setRuns] = useState<Run[]>([]);
  useEffect(() => {
    props.client.runs.list(props.threadId, { limit: 20 }).then(setRuns).catch(() => setRuns([]));
  }, [props.client, props.threadId, props.version]);
  return (
    <ul className="runs pad" data-testid="runs">
      {runs.map((r) => (
        <li key={r.run_id} className="row">
          <span className={`pill ${r.status}`}>{r.status}</span>
          <code>{r.run_id.slice(0, 8)}</code>
          <span className="small muted">{relativeTime(r.created_at)}</span>
          <span className="grow" />
          <button className="link" onClick={() => navigate({ name: "run", threadId: props.threadId, runId: r.run_id })}>
            trace →
          </button>
        </li>
      ))}
      {runs.length === 0 && <li className="muted small">No runs yet.</li>}
    </ul>
  );
}
