#!/usr/bin/env bash
# Print, as Markdown, the raw HTTP exchanges of a few foundation requests against a running
# LangGraph-compatible server (agentd or the reference server), so that two servers' wire
# output can be read side by side:
#   scripts/capture-wire.sh http://127.0.0.1:12024 > /tmp/peer-wire.md
# It creates one thread and one store-free lookup; it changes nothing else.
set -euo pipefail
URL="${1:-${AGENTD_URL:-http://127.0.0.1:8123}}"
URL="${URL%/}"

# exchange TITLE METHOD PATH [BODY]: show the request line, the body sent, then the status
# line, headers and body received (curl -i), verbatim.
exchange() {
  local title="$1" method="$2" path="$3" body="${4-}"
  printf '## %s\n\n```http\n%s %s\n' "$title" "$method" "$path"
  local args=(-sS -i --max-time 10 -X "$method" "$URL$path")
  if [ -n "$body" ]; then
    printf 'content-type: application/json\n\n%s\n' "$body"
    args+=(-H 'content-type: application/json' --data-binary "$body")
  fi
  printf '```\n\n```http\n'
  curl "${args[@]}" | tr -d '\r'
  printf '\n```\n\n'
}

printf '# Wire capture of %s\n\n' "$URL"
printf 'Captured %s with curl -i (CR stripped).\n\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)"

exchange "GET /ok" GET /ok
exchange "GET /info" GET /info
exchange "Assistant search (system assistants)" POST /assistants/search '{"limit":10,"offset":0}'
exchange "Assistant get by graph name" GET /assistants/agent
exchange "Create assistant with no graph_id (validation error)" POST /assistants '{"name":"x"}'
exchange "Create thread with metadata" POST /threads '{"metadata":{"e2e":"wire"}}'
tid="$(curl -sS -X POST "$URL/threads" -H 'content-type: application/json' \
  -d '{"metadata":{"e2e":"wire2"}}' | sed -n 's/.*"thread_id" *: *"\([^"]*\)".*/\1/p' | head -n1)"
exchange "Get thread" GET "/threads/$tid"
exchange "Thread search by metadata" POST /threads/search '{"metadata":{"e2e":"wire2"},"limit":10,"offset":0}'
exchange "State of an empty thread" GET "/threads/$tid/state"
exchange "History of an empty thread" POST "/threads/$tid/history" '{"limit":10}'
exchange "Create thread with existing id (if_exists raise)" POST /threads "{\"thread_id\":\"$tid\",\"if_exists\":\"raise\"}"
exchange "Get a missing thread (404)" GET /threads/00000000-0000-4000-8000-000000000000
exchange "Non-UUID thread id" GET /threads/not-a-uuid
exchange "Store get of a missing item" GET '/store/items?namespace=e2e.wire&key=missing'
exchange "Unknown route" GET /no/such/route
exchange "Malformed JSON" POST /threads '{"metadata":'
exchange "Delete thread" DELETE "/threads/$tid"
