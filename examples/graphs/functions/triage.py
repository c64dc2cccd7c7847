#!/usr/bin/env python3
"""A function node for agentd graph files, in Python's standard library only.

agentd POSTs {graph_id, node, thread_id, run_id, state, config, context[, resume]} and reads
{update?, goto?, interrupt?} (docs/graphs.md). This one reads the last message and routes:
"urgent" in it -> goto `escalate`, otherwise it writes a priority and follows its edges.

    python3 examples/graphs/functions/triage.py 8765
    build/agentd serve --graphs-dir examples/graphs/functions --storage memory
"""
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def text_of(message):
    content = message.get("content", "")
    if isinstance(content, list):
        return "".join(p.get("text", "") if isinstance(p, dict) else str(p) for p in content)
    return str(content)


def triage(request):
    messages = request.get("state", {}).get("messages", [])
    last = text_of(messages[-1]) if messages else ""
    if "urgent" in last.lower():
        return {"update": {"priority": "high"}, "goto": "escalate"}
    return {"update": {"priority": "normal"}}


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        length = int(self.headers.get("content-length", "0"))
        try:
            request = json.loads(self.rfile.read(length) or b"{}")
        except json.JSONDecodeError:
            self.send_response(400)
            self.end_headers()
            return
        body = json.dumps(triage(request)).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8765
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    print(f"triage listening on http://127.0.0.1:{port}", flush=True)
    server.serve_forever()
