// The playground: pick an assistant, chat (tokens stream through useStream from the official
// @langchain/langgraph-sdk), see tool calls with their results, answer interrupts, browse a
// thread's history, fork from a checkpoint, edit its state and look at its channels.
import { useCallback, useEffect, useState } from "react";
import type { Assistant, Client, Thread } from "@langchain/langgraph-sdk";
import { Credential, Session } from "../api";
import { navigate } from "../router";
import { Chat } from "./Chat";

export function Playground(props: { client: Client; credential: Credential; session: Session; threadId?: string }) {
  const { client, threadId } = props;
  const [assistants, setAssistants] = useState<Assistant[]>([]);
  const [assistantId, setAssistantId] = useState<string>(() => localStorage.getItem("agentd.console.assistant") ?? "agent");
  const [threads, setThreads] = useState<Thread[]>([]);
  const [problem, setProblem] = useState<string>();
  const [reload, setReload] = useState(0);

  useEffect(() => {
    client.assistants
      .search({ limit: 100 })
      .then((found) => {
        setAssistants(found);
        if (found.length && !found.some((a) => a.assistant_id === assistantId || a.graph_id === assistantId)) {
          setAssistantId(found[0].graph_id);
        }
      })
      .catch((e) => setProblem(String(e)));
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [client]);

  const refreshThreads = useCallback(() => {
    client.threads
      .search({ limit: 50, sortBy: "updated_at", sortOrder: "desc" })
      .then(setThreads)
      .catch((e) => setProblem(String(e)));
  }, [client]);
  useEffect(refreshThreads, [refreshThreads, reload]);

  // A thread keeps the assistant its runs used (thread metadata.assistant_id / graph_id).
  const current = threads.find((t) => t.thread_id === threadId);
  useEffect(() => {
    const meta = (current?.metadata ?? {}) as Record<string, unknown>;
    const graph = typeof meta.graph_id === "string" ? meta.graph_id : undefined;
    if (graph) setAssistantId(graph);
  }, [current?.thread_id]); // eslint-disable-line react-hooks/exhaustive-deps

  const pick = (id: string) => {
    setAssistantId(id);
    localStorage.setItem("agentd.console.assistant", id);
  };

  return (
    <div className="playground">
      <aside className="sidebar">
        <label className="field">
          <span>Assistant</span>
          <select value={assistantId} onChange={(e) => pick(e.target.value)} data-testid="assistant">
            {assistants.length === 0 && <option value={assistantId}>{assistantId}</option>}
            {assistants.map((a) => (
              <option key={a.assistant_id} value={a.metadata?.created_by === "system" ? a.graph_id : a.assistant_id}>
                {a.name || a.graph_id}
                {a.metadata?.created_by === "system" ? "" : ` (${a.assistant_id.slice(0, 8)})`}
              </option>
            ))}
          </select>
        </label>
        <button className="primary wide" onClick={() => navigate({ name: "playground" })} data-testid="new-thread">
          + New thread
        </button>
        <div className="section-title">
          Threads <button className="link" onClick={refreshThreads} title="Refresh">↻</button>
        </div>
        <ul className="threads" data-testid="threads">
          {threads.map((t) => (
            <li key={t.thread_id}>
              <button
                className={t.thread_id === threadId ? "thread active" : "thread"}
                onClick={() => navigate({ name: "playground", threadId: t.thread_id })}
                data-thread-id={t.thread_id}
              >
                <span className={`dot ${t.status}`} title={t.status} />
                <span className="title">{threadTitle(t)}</span>
                <span className="muted small">{relativeTime(t.updated_at)}</span>
              </button>
            </li>
          ))}
          {threads.length === 0 && <li className="muted small">No threads yet.</li>}
        </ul>
        {problem && <div className="error small">{problem}</div>}
      </aside>
      <Chat
        client={client}
        credential={props.credential}
        session={props.session}
        assistantId={assistantId}
        threadId={threadId}
        onThreadId={(id) => {
          navigate({ name: "playground", threadId: id }, true);
          setReload((n) => n + 1);
        }}
        onRunEnded={() => setReload((n) => n + 1)}
      />
    </div>
  );
}

function threadTitle(t: Thread): string {
  const values = t.values as { messages?: Array<{ type?: string; content?: unknown }> } | undefined;
  const first = values?.messages?.find((m) => m.type === "human");
  const text = typeof first?.content === "string" ? first.content : undefined;
  return text ? text.slice(0, 48) : t.thread_id.slice(0, 8);
}

export function relativeTime(iso?: string): string {
  if (!iso) return "";
  const s = Math.round((Date.now() - Date.parse(iso)) / 1000);
  if (s < 60) return `${Math.max(0, s)}s`;
  if (s < 3600) return `${Math.round(s / 60)}m`;
  if (s < 86400) return `${Math.round(s / 3600)}h`;
  return `${Math.round(s / 86400)}d`;
}
