// Answering a paused run. Three shapes:
//  - a static breakpoint (interrupt_before/after): { when: "breakpoint" } -> Continue;
//  - a human-in-the-loop approval (LangChain's HITL middleware): the value has action_requests
//    [{name, args|arguments, description}] and review_configs [{action_name, allowed_decisions}]
//    -> per action approve / edit / reject, resumed with {decisions: [...]};
//  - anything else: the value is shown and any JSON can be sent as Command.resume.
import { useState } from "react";
import { JsonView } from "../components/JsonView";

type ActionRequest = { name: string; args?: unknown; arguments?: unknown; description?: string };
type ReviewConfig = { action_name: string; allowed_decisions?: string[] };
type Decision =
  | { type: "approve" }
  | { type: "edit"; edited_action: { name: string; args: unknown } }
  | { type: "reject"; message?: string };

export function Interrupts(props: {
  interrupt: unknown;
  next: string[];
  onResume: (resume: unknown) => void;
  onContinue: () => void;
}) {
  const list = (Array.isArray(props.interrupt) ? props.interrupt : [props.interrupt]) as Array<{ value?: unknown; when?: string; id?: string }>;
  const first = list[0] ?? {};
  if (first.when === "breakpoint") {
    return (
      <div className="interrupt card" data-testid="interrupt-breakpoint">
        <div className="interrupt-title">Paused before {props.next.length ? props.next.join(", ") : "the next step"}</div>
        <p className="small muted">
          A breakpoint stopped the run. Continue runs the pending step; you can also edit the state first (State tab).
        </p>
        <button className="primary" onClick={props.onContinue} data-testid="continue">
          Continue
        </button>
      </div>
    );
  }
  const value = first.value as { action_requests?: ActionRequest[]; review_configs?: ReviewConfig[] } | undefined;
  if (value && Array.isArray(value.action_requests)) {
    return <Approval requests={value.action_requests} configs={value.review_configs ?? []} onResume={props.onResume} />;
  }
  return <GenericInterrupt value={first.value} onResume={props.onResume} />;
}

function Approval(props: { requests: ActionRequest[]; configs: ReviewConfig[]; onResume: (r: unknown) => void }) {
  const [decisions, setDecisions] = useState<(Decision | undefined)[]>(() => props.requests.map(() => undefined));
  const [editing, setEditing] = useState<number>();
  const [editText, setEditText] = useState("");
  const [rejectText, setRejectText] = useState("");
  const [problem, setProblem] = useState<string>();
  const decide = (i: number, d: Decision) => {
    const next = decisions.slice();
    next[i] = d;
    setDecisions(next);
    setEditing(undefined);
    if (next.every(Boolean)) props.onResume({ decisions: next });
  };
  return (
    <div className="interrupt card" data-testid="interrupt-approval">
      <div className="interrupt-title">Approval needed</div>
      {props.requests.map((r, i) => {
        const allowed = props.configs.find((c) => c.action_name === r.name)?.allowed_decisions ?? ["approve", "edit", "reject"];
        const args = r.args ?? r.arguments ?? {};
        return (
          <div key={i} className="action">
            <div className="row">
              <b>{r.name}</b>
              {decisions[i] && <span className="pill">{decisions[i]!.type}</span>}
            </div>
            {r.description && <div className="small muted" style={{ whiteSpace: "pre-wrap" }}>{r.description}</div>}
            <JsonView value={args} />
            {!decisions[i] && editing !== i && (
              <div className="row">
                {allowed.includes("approve") && (
                  <button className="primary" onClick={() => decide(i, { type: "approve" })} data-testid="approve">
                    Approve
                  </button>
                )}
                {allowed.includes("edit") && (
                  <button
                    onClick={() => {
                      setEditing(i);
                      setEditText(JSON.stringify(args, null, 2));
                      setProblem(undefined);
                    }}
                    data-testid="edit"
                  >
                    Edit…
                  </button>
                )}
                {allowed.includes("reject") && (
                  <>
                    <input placeholder="reason (optional)" value={rejectText} onChange={(e) => setRejectText(e.target.value)} />
                    <button className="danger" onClick={() => decide(i, { type: "reject", message: rejectText || undefined })} data-testid="reject">
                      Reject
                    </button>
                  </>
                )}
              </div>
            )}
            {editing === i && (
              <div className="edit">
                <textarea className="code" rows={6} value={editText} onChange={(e) => setEditText(e.target.value)} data-testid="edit-args" />
                {problem && <div className="error small">{problem}</div>}
                <div className="row">
                  <button
                    className="primary"
                    onClick={() => {
                      try {
                        decide(i, { type: "edit", edited_action: { name: r.name, args: JSON.parse(editText) } });
                      } catch (e) {
                        setProblem(String(e));
                      }
                    }}
                    data-testid="submit-edit"
                  >
                    Approve edited
                  </button>
                  <button onClick={() => setEditing(undefined)}>Cancel</button>
                </div>
              </div>
            )}
          </div>
        );
      })}
    </div>
  );
}

function GenericInterrupt(props: { value: unknown; onResume: (r: unknown) => void }) {
  const [text, setText] = useState('""');
  const [problem, setProblem] = useState<string>();
  return (
    <div className="interrupt card" data-testid="interrupt-generic">
      <div className="interrupt-title">The graph asks</div>
      <JsonView value={props.value} />
      <div className="small muted">Resume with (JSON, sent as Command.resume):</div>
      <textarea className="code" rows={3} value={text} onChange={(e) => setText(e.target.value)} data-testid="resume-json" />
      {problem && <div className="error small">{problem}</div>}
      <button
        className="primary"
        onClick={() => {
          try {
            props.onResume(JSON.parse(text));
          } catch (e) {
            setProblem(String(e));
          }
        }}
        data-testid="resume"
      >
        Resume
      </button>
    </div>
  );
}
