#!/usr/bin/python3
"""A strict OTLP/HTTP JSON traces receiver for tests (tests/console/tests/traces.test.mjs).

Every POST /v1/traces body is checked against the official OpenTelemetry protocol definitions
(tests/otlp/proto, from open-telemetry/opentelemetry-proto, compiled by Debian's protoc at
start) with protobuf's proto3 JSON parser, unknown fields refused, plus the rules by which OTLP
JSON differs from the plain proto3 mapping (OTLP spec, "JSON Protobuf Encoding"):
  - traceId / spanId / parentSpanId are lowercase hex (32 / 16 digits, not all zero), not base64;
  - enums (span kind, status code) are integers, never names;
  - keys are lowerCamelCase.
A valid request is answered 200 with an ExportTraceServiceResponse ({}); an invalid one 400,
and its problem is kept. GET /received answers {"requests": [...], "errors": [...]}.

Usage: receiver.py PORT_FILE   (binds 127.0.0.1:0, writes the port to PORT_FILE)
Needs python3-protobuf and protobuf-compiler (scripts/setup.sh installs both).
"""
import base64
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HERE = os.path.dirname(os.path.abspath(__file__))
PROTO = os.path.join(HERE, "proto")
OUT = tempfile.mkdtemp(prefix="otlp-proto-")
protos = []
for root, _, files in os.walk(os.path.join(PROTO, "opentelemetry")):
    protos += [os.path.relpath(os.path.join(root, f), PROTO) for f in files if f.endswith(".proto")]
subprocess.run(["protoc", "-I", PROTO, f"--python_out={OUT}", *protos], check=True)
sys.path.insert(0, OUT)

from google.protobuf import json_format  # noqa: E402
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2  # noqa: E402

HEX32 = re.compile(r"^[0-9a-f]{32}$")
HEX16 = re.compile(r"^[0-9a-f]{16}$")
lock = threading.Lock()
received = []
errors = []


def fix_id(obj, key, pattern, where, required):
    """Checks an OTLP hex id and rewrites it as base64, what the proto3 parser expects."""
    if key not in obj:
        if required:
            raise ValueError(f"{where}: {key} missing")
        return
    value = obj[key]
    if value == "" and not required:
        return
    if not isinstance(value, str) or not pattern.match(value) or set(value) == {"0"}:
        raise ValueError(f"{where}: {key} {value!r} is not lowercase hex of the right length")
    obj[key] = base64.b64encode(bytes.fromhex(value)).decode()


def check_enum(obj, key, where):
    if key in obj and not isinstance(obj[key], int):
        raise ValueError(f"{where}: {key} must be an integer, got {obj[key]!r}")


def validate(text):
    doc = json.loads(text)
    copy = json.loads(text)
    for i, rs in enumerate(copy.get("resourceSpans", [])):
        for j, ss in enumerate(rs.get("scopeSpans", [])):
            for k, span in enumerate(ss.get("spans", [])):
                where = f"resourceSpans[{i}].scopeSpans[{j}].spans[{k}]"
                fix_id(span, "traceId", HEX32, where, True)
                fix_id(span, "spanId", HEX16, where, True)
                fix_id(span, "parentSpanId", HEX16, where, False)
                for n, link in enumerate(span.get("links", [])):
                    fix_id(link, "traceId", HEX32, f"{where}.links[{n}]", True)
                    fix_id(link, "spanId", HEX16, f"{where}.links[{n}]", True)
                check_enum(span, "kind", where)
                check_enum(span.get("status", {}), "code", where + ".status")
                if not span.get("name"):
                    raise ValueError(f"{where}: name is empty")
                if int(span.get("startTimeUnixNano", 0)) <= 0:
                    raise ValueError(f"{where}: startTimeUnixNano missing")
                if int(span.get("endTimeUnixNano", 0)) < int(span["startTimeUnixNano"]):
                    raise ValueError(f"{where}: ends before it starts")
    json_format.Parse(json.dumps(copy), trace_service_pb2.ExportTraceServiceRequest(),
                      ignore_unknown_fields=False)
    return doc


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def reply(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        text = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
        try:
            if self.path != "/v1/traces":
                raise ValueError(f"POST {self.path}: not /v1/traces")
            if self.headers.get("Content-Type", "").split(";")[0].strip() != "application/json":
                raise ValueError(f"Content-Type {self.headers.get('Content-Type')!r}")
            doc = validate(text)
        except Exception as e:  # every problem is the test's to see
            with lock:
                errors.append(str(e))
            self.reply(400, {"error": str(e)})
            return
        with lock:
            received.append({"headers": dict(self.headers), "body": doc})
        self.reply(200, {})

    def do_GET(self):
        with lock:
            self.reply(200, {"requests": received, "errors": errors})


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
server.serve_forever()
