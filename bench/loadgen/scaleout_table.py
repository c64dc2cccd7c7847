#!/usr/bin/env python3
"""Summarises a bench/loadgen/scaleout.sh session: one row per setup and scenario (markdown),
then the connections sampled during each scenario (max over the samples).

    bench/loadgen/scaleout_table.py OUT
"""
import json
import pathlib
import re
import sys

out = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/loadgen-scaleout")
SETUPS = ["embedded", "cluster1", "cluster2", "cluster3"]


def load(name):
    path = out / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def lat(r, name):
    return r["latencies_us"].get(name, {})


def loadavg(name):
    start = end = "?"
    for line in (out / "loadavg.txt").read_text().splitlines():
        parts = line.split()
        if parts[0] == name:
            if parts[1] == "start":
                start = parts[4]
            else:
                end = parts[5]
    return f"{start} -> {end}"


def errors(r):
    return ", ".join(f"{k} {v}" for k, v in r["errors"].items()) or "0"


print("| setup | runs/s | wait p50 / p99 (ms) | errors | server CPU-s (% of one core) | load |")
print("| --- | --- | --- | --- | --- | --- |")
for s in SETUPS:
    name = next((p.stem for p in sorted(out.glob(f"{s}-wait-*.json"))), None)
    r = load(name) if name else None
    if not r:
        continue
    w = lat(r, "wait")
    print(f"| {s} | {r['figures']['runs_per_s']:,.0f} | {w.get('p50_ms', 0):.1f} / {w.get('p99_ms', 0):.1f} "
          f"| {errors(r)} | {r['server']['cpu_seconds']:.1f} ({r['figures'].get('server_cpu_pct', 0):.0f}%) "
          f"| {loadavg(name)} |")

print()
print("| setup | arrivals | completed / failed | overhead p50 / p99 (ms) | first event p50 / p99 (ms) "
      "| first token p50 / p99 (ms) | server CPU-s | KB per run (sum) | load |")
print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
for s in SETUPS:
    for arrivals in ["burst", "rampup2"]:
        name = next((p.stem for p in sorted(out.glob(f"{s}-stream-*-{arrivals}.json"))), None)
        r = load(name) if name else None
        if not r:
            continue
        o, fe, ft = lat(r, "overhead"), lat(r, "first_event"), lat(r, "first_token")
        c = r["counters"]
        print(f"| {s} | {arrivals} | {c.get('completed', 0):,} / {c.get('failed', 0)} ({errors(r)}) "
              f"| {o.get('p50_ms', 0):.1f} / {o.get('p99_ms', 0):.1f} | {fe.get('p50_ms', 0):.1f} / {fe.get('p99_ms', 0):.1f} "
              f"| {ft.get('p50_ms', 0):.1f} / {ft.get('p99_ms', 0):.1f} | {r['server']['cpu_seconds']:.2f} "
              f"| {r['figures'].get('server_kb_per_concurrent', 0):.1f} | {loadavg(name)} |")

print()
print("| sampled during | redis clients (max, all) | redis per instance (max) | pg backends (max, all) | pg per instance (max) |")
print("| --- | --- | --- | --- | --- |")
rows = {}
for line in (out / "connections.txt").read_text().splitlines():
    m = re.match(r"(\S+) \S+ redis_clients (\d+) pg_backends (\d+) redis_by_pid \[(.*)\] pg_by_pid \[(.*)\]", line)
    if not m:
        continue
    row = rows.setdefault(m[1], [0, 0, 0, 0])
    per = lambda text: max((int(x.split(":")[1]) for x in text.split()), default=0)
    row[0] = max(row[0], int(m[2]))
    row[1] = max(row[1], per(m[4]))
    row[2] = max(row[2], int(m[3]))
    row[3] = max(row[3], per(m[5]))
for label, (rc, rp, pc, pp) in rows.items():
    print(f"| {label} | {rc} | {rp} | {pc} | {pp} |")
print()
for line in (out / "connections.txt").read_text().splitlines():
    if "CLIENT LIST names" in line:
        print("-", line.rstrip(", "))
