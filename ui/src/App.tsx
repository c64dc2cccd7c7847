import { useCallback, useEffect, useMemo, useState } from "react";
import {
  Credential,
  HttpError,
  Session,
  fetchSession,
  loadCredential,
  makeClient,
  saveCredential,
} from "./api";
import { href, navigate, useRoute } from "./router";
import { SignIn } from "./views/SignIn";
import { Playground } from "./views/Playground";
import { Operations } from "./views/Operations";
import { RunInspector } from "./views/RunInspector";

type SessionState =
  | { state: "loading" }
  | { state: "signed-out"; problem?: string }
  | { state: "ready"; session: Session }
  | { state: "error"; problem: string };

export function App() {
  const route = useRoute();
  const [credential, setCredential] = useState<Credential>(loadCredential);
  const [session, setSession] = useState<SessionState>({ state: "loading" });

  const refresh = useCallback(async (c: Credential) => {
    setSession({ state: "loading" });
    try {
      setSession({ state: "ready", session: await fetchSession(c) });
    } catch (e) {
      if (e instanceof HttpError && e.status === 401) {
        setSession({
          state: "signed-out",
          problem: c.kind === "none" ? undefined : HttpError.detail(e.body),
        });
      } else {
        setSession({ state: "error", problem: String(e) });
      }
    }
  }, []);

  useEffect(() => {
    void refresh(credential);
  }, [credential, refresh]);

  const client = useMemo(() => makeClient(credential), [credential]);
  const signIn = (c: Credential) => {
    saveCredential(c);
    setCredential(c);
  };
  const signOut = () => signIn({ kind: "none" });

  const s = session.state === "ready" ? session.session : undefined;
  return (
    <div className="app">
      <header className="topbar">
        <a className="brand" href={href({ name: "playground" })} onClick={(e) => { e.preventDefault(); navigate({ name: "playground" }); }}>
          <span className="logo" aria-hidden>◆</span> agentd <span className="muted">console</span>
        </a>
        <nav>
          <NavLink active={route.name === "playground" || route.name === "run"} onClick={() => navigate({ name: "playground" })} testId="nav-playground">
            Playground
          </NavLink>
          <NavLink active={route.name === "ops"} onClick={() => navigate({ name: "ops" })} testId="nav-ops">
            Operations
          </NavLink>
        </nav>
        <div className="who" data-testid="who">
          {s && (
            <>
              {s.auth === "required" ? (
                <span>
                  tenant <b data-testid="tenant">{s.tenant}</b>
                  {s.admin && <span className="badge">admin</span>}
                </span>
              ) : (
                <span className="muted">auth off</span>
              )}
              <span className="muted">v{s.version}</span>
              {s.auth === "required" && (
                <button className="link" onClick={signOut} data-testid="sign-out">
                  Sign out
                </button>
              )}
            </>
          )}
        </div>
      </header>
      <main>
        {session.state === "loading" && <div className="center muted">Connecting…</div>}
        {session.state === "error" && (
          <div className="center error">
            agentd did not answer: {session.problem}{" "}
            <button onClick={() => void refresh(credential)}>Retry</button>
          </div>
        )}
        {session.state === "signed-out" && <SignIn onSignIn={signIn} problem={session.problem} />}
        {s && route.name === "playground" && (
          <Playground key={credential.kind + ("value" in credential ? credential.value : "")} client={client} credential={credential} session={s} threadId={route.threadId} />
        )}
        {s && route.name === "ops" && <Operations credential={credential} session={s} />}
        {s && route.name === "run" && (
          <RunInspector client={client} credential={credential} threadId={route.threadId} runId={route.runId} />
        )}
      </main>
    </div>
  );
}

function NavLink(props: { active: boolean; onClick: () => void; children: React.ReactNode; testId: string }) {
  return (
    <button className={props.active ? "nav active" : "nav"} onClick={props.onClick} data-testid={props.testId}>
      {props.children}
    </button>
  );
}
