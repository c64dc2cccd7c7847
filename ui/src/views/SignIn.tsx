import { useState } from "react";
import { Credential } from "../api";

// Shown when agentd answers 401: auth is required and no (or a bad) credential was given.
export function SignIn(props: { onSignIn: (c: Credential) => void; problem?: string }) {
  const [kind, setKind] = useState<"apiKey" | "bearer">("apiKey");
  const [value, setValue] = useState("");
  return (
    <form
      className="signin card"
      onSubmit={(e) => {
        e.preventDefault();
        if (value.trim()) props.onSignIn({ kind, value: value.trim() });
      }}
    >
      <h2>Sign in to agentd</h2>
      <p className="muted">
        This server requires a credential. It stays in this browser tab (session storage) and is sent as a header;
        streams use short-lived tokens.
      </p>
      <div className="segmented">
        <label>
          <input type="radio" checked={kind === "apiKey"} onChange={() => setKind("apiKey")} /> API key
        </label>
        <label>
          <input type="radio" checked={kind === "bearer"} onChange={() => setKind("bearer")} /> Bearer token (JWT)
        </label>
      </div>
      <input
        type="password"
        autoFocus
        placeholder={kind === "apiKey" ? "x-api-key" : "eyJhbGciOi…"}
        value={value}
        onChange={(e) => setValue(e.target.value)}
        data-testid="credential"
      />
      {props.problem && <div className="error">{props.problem}</div>}
      <button type="submit" className="primary" data-testid="sign-in">
        Sign in
      </button>
    </form>
  );
}
