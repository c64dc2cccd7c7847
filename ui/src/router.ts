// A tiny history router: the console's routes live under /console/ and agentd answers every
// one of them with index.html (SPA fallback), so deep links and reloads work.
import { useEffect, useState } from "react";

export const BASE = "/console";

export type Route =
  | { name: "playground"; threadId?: string }
  | { name: "ops" }
  | { name: "run"; threadId: string; runId: string };

export function parse(pathname: string): Route {
  const rest = pathname.startsWith(BASE) ? pathname.slice(BASE.length) : pathname;
  const parts = rest.split("/").filter(Boolean);
  if (parts[0] === "ops") return { name: "ops" };
  if (parts[0] === "threads" && parts[1] && parts[2] === "runs" && parts[3]) {
    return { name: "run", threadId: parts[1], runId: parts[3] };
  }
  if (parts[0] === "threads" && parts[1]) return { name: "playground", threadId: parts[1] };
  return { name: "playground" };
}

export function href(route: Route): string {
  switch (route.name) {
    case "ops":
      return `${BASE}/ops`;
    case "run":
      return `${BASE}/threads/${route.threadId}/runs/${route.runId}`;
    case "playground":
      return route.threadId ? `${BASE}/threads/${route.threadId}` : `${BASE}/`;
  }
}

export function navigate(route: Route, replace = false) {
  const url = href(route);
  if (url === window.location.pathname) return;
  if (replace) window.history.replaceState(null, "", url);
  else window.history.pushState(null, "", url);
  window.dispatchEvent(new PopStateEvent("popstate"));
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parse(window.location.pathname));
  useEffect(() => {
    const on = () => setRoute(parse(window.location.pathname));
    window.addEventListener("popstate", on);
    return () => window.removeEventListener("popstate", on);
  }, []);
  return route;
}
