// How the console talks to agentd: the official LangGraph SDK client for the API, plain fetch
// for the console's own endpoints (session, operations, stream tokens, traces), all on the
// origin that served the page. The credential (an API key or a bearer token) lives in
// sessionStorage: it is sent as x-api-key / Authorization, never put in a URL; EventSource and
// WebSocket URLs carry a short-lived stream token instead (POST /auth/stream-token).
import { Client } from "@langchain/langgraph-sdk";

export type Credential =
  | { kind: "none" }
  | { kind: "apiKey"; value: string }
  | { kind: "bearer"; value: string };

export interface Session {
  auth: "none" | "required";
  tenant: string;
  user_id: string;
  tier: string;
  admin: boolean;
  version: string;
  ops: boolean;
  traces: boolean;
  stream_token_ttl_s: number;
  graphs: string[];
}

const STORAGE_KEY = "agentd.console.credential";

export function loadCredential(): Credential {
  try {
    const raw = sessionStorage.getItem(STORAGE_KEY);
    if (raw) return JSON.parse(raw) as Credential;
  } catch {
    // unreadable: treat as signed out
  }
  return { kind: "none" };
}

export function saveCredential(c: Credential) {
  if (c.kind === "none") sessionStorage.removeItem(STORAGE_KEY);
  else sessionStorage.setItem(STORAGE_KEY, JSON.stringify(c));
}

export function authHeaders(c: Credential): Record<string, string> {
  if (c.kind === "apiKey") return { "x-api-key": c.value };
  if (c.kind === "bearer") return { Authorization: `Bearer ${c.value}` };
  return {};
}

export const apiUrl = window.location.origin;

export function makeClient(c: Credential): Client {
  return new Client({
    apiUrl,
    apiKey: c.kind === "apiKey" ? c.value : null,
    defaultHeaders: c.kind === "bearer" ? { Authorization: `Bearer ${c.value}` } : {},
  });
}

export class HttpError extends Error {
  constructor(
    public status: number,
    public body: string,
  ) {
    super(`${status}: ${HttpError.detail(body)}`);
  }
  static detail(body: string): string {
    try {
      const parsed = JSON.parse(body);
      return parsed.detail ?? parsed.message ?? body;
    } catch {
      return body;
    }
  }
}

export async function getJson<T>(c: Credential, path: string, init?: RequestInit): Promise<T> {
  const res = await fetch(apiUrl + path, {
    ...init,
    headers: { ...authHeaders(c), ...(init?.body ? { "Content-Type": "application/json" } : {}), ...(init?.headers ?? {}) },
  });
  const text = await res.text();
  if (!res.ok) throw new HttpError(res.status, text);
  return (text ? JSON.parse(text) : null) as T;
}

export function fetchSession(c: Credential): Promise<Session> {
  return getJson<Session>(c, "/console/api/session");
}

// A stream token for an EventSource/WebSocket URL (docs/console.md, "Stream tokens").
export async function streamToken(c: Credential): Promise<string> {
  const out = await getJson<{ token: string }>(c, "/auth/stream-token", { method: "POST", body: "{}" });
  return out.token;
}

export function withToken(path: string, token: string): string {
  return `${path}${path.includes("?") ? "&" : "?"}access_token=${encodeURIComponent(token)}`;
}
