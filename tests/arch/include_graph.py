#!/usr/bin/env python3
"""The include graph between src/ subsystems, checked against the allowed arrows and CMake.

  tests/arch/include_graph.py          print the graph, fail on a problem (ctest include_graph)

Three rules, from shared/docs/style.md ("Dependencies") and the CMake targets:

1. Arrows. A file under src/A may include "B/..." only when A -> B is in ALLOWED below (the
   style guide's arrows), or in KNOWN_EXCEPTIONS with the reason it is there. An exception
   that no include needs any more is itself an error, so the list only shrinks.
2. Backends. Only apps/ and tests/ (and the backend's own folder) include a backend's headers
   (storage/sqlite/, bus/redis/, ...): everyone else sees the interface folder.
3. CMake. Every include across folders is declared: a target of the including file's folder
   (the nearest one with a CMakeLists.txt) reaches a target defined in the included header's
   folder through its own PUBLIC/PRIVATE deps and their PUBLIC deps (what CMake itself passes
   on). So the READMEs' "may depend on" lines and the build agree.

A new folder under src/ must be added to ALLOWED (what it may include) before this passes.
"""

import os
import re
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SRC = os.path.join(REPO, "src")

# Everyone may include these (style.md: all -> {observe, config, model, common}).
BASE = {"common", "observe", "config", "model"}

# Subsystem -> what it may include besides BASE (style.md's arrows; folders it does not name
# are placed where their role puts them).
ALLOWED = {
    "common": set(),
    "observe": set(),
    "model": set(),
    "config": set(),
    "http": set(),  # http -> {observe, common} only
    "bus": set(),
    "storage": set(),
    "limits": {"bus"},  # the Redis limiter shares the bus's Redis connection code
    "broadcast": {"bus"},  # channels fan out over the bus's pub/sub
    "mock": set(),
    "graph": set(),  # the graph-file format (parse, validate, templates): pure functions
    "runtime": {"storage", "bus", "graph"},  # runtime executes what graph/ parsed
    "mcp": {"runtime"},  # MCP servers' tools are runtime::ToolSource tools, over its transport
    "scheduler": {"runtime", "storage", "bus", "limits"},
    "api": {"http", "scheduler", "runtime", "storage", "bus", "limits", "broadcast"},
}
# Lower layers never include the higher ones BASE would otherwise let everyone reach.
NOT_FROM = {"common": BASE - {"common"}, "model": {"observe", "config"},
            "observe": {"config", "model"}, "http": {"config", "model"}}

# Edges that break the arrows today, each with why it is there (issue 16 lists them to fix).
KNOWN_EXCEPTIONS = {
    ("config", "mock"): "the built-in demo catalog validates the mock model's settings",
    ("runtime", "mock"): "the in-process mock model is a model provider (runtime/providers)",
    ("mock", "http"): "`agentd mock-llm` serves the mock over agentd's own HTTP server",
    ("http", "runtime"): "the HTTP client pool implements runtime's upstream transport",
    ("http", "model"): "a request carries its authenticated principal (model/principal.hpp)",
    ("limits", "scheduler"): "the Redis limiter takes run permits from the scheduler",
    ("api", "mcp"): "/mcp and /a2a reuse the MCP client's pure JSON-RPC codec (mcp/jsonrpc.hpp)",
}

# Folders whose headers only apps/, tests/ and the folder itself may include.
BACKENDS = ["storage/memory", "storage/sqlite", "storage/postgres", "bus/inproc", "bus/redis",
            "limits/redis"]
# (including folder, backend) pairs that break rule 2 today, and why.
BACKEND_EXCEPTIONS = {
    ("limits/redis", "bus/redis"): "the Redis limiter and run permits reuse the bus's Redis "
                                   "connection and reply parsing (a shared Redis client library "
                                   "would remove this)",
}

# Headers a folder may include without linking their folder's target (rule 3), and why.
HEADER_ONLY_INTERFACES = {
    "runtime/http_transport.hpp": "the interface http's client pool implements for runtime; "
                                  "header-only, so http links no runtime code",
}

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')
LIBRARY = re.compile(r"agentd_add_library\(([^)]*)\)")
DEPS = re.compile(r"agentd::(\w+)")


def source_files(top):
    for dirpath, dirnames, filenames in os.walk(top):
        dirnames.sort()
        for name in sorted(filenames):
            if name.endswith((".hpp", ".cpp", ".h")):
                yield os.path.join(dirpath, name)


def includes(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        for number, line in enumerate(f, 1):
            m = INCLUDE.match(line)
            if m:
                yield number, m.group(1)


def cmake_dir(path):
    """The nearest folder at or above `path`'s folder, inside src/, with a CMakeLists.txt."""
    d = os.path.dirname(path)
    while d.startswith(SRC) and d != SRC:
        if os.path.exists(os.path.join(d, "CMakeLists.txt")):
            return d
        d = os.path.dirname(d)
    return None


def cmake_libraries():
    """Every agentd_add_library under src/: name -> (folder, PUBLIC deps, PRIVATE deps)."""
    libraries = {}
    for dirpath, _, filenames in os.walk(SRC):
        if "CMakeLists.txt" not in filenames:
            continue
        with open(os.path.join(dirpath, "CMakeLists.txt"), encoding="utf-8") as f:
            text = "\n".join(line.split("#", 1)[0] for line in f)
        for call in LIBRARY.findall(text):
            words = call.split()
            public, private, section = set(), set(), None
            for w in words[1:]:
                if w in ("PUBLIC_DEPS", "PRIVATE_DEPS", "SOURCES"):
                    section = w
                elif section == "PUBLIC_DEPS":
                    public.update(DEPS.findall(w))
                elif section == "PRIVATE_DEPS":
                    private.update(DEPS.findall(w))
            libraries[words[0]] = (dirpath, public, private)
    return libraries


def reachable(libraries, name):
    """Targets whose headers `name` may include: its deps and, transitively, their PUBLIC deps."""
    _, public, private = libraries[name]
    seen, todo = set(), list(public | private)
    while todo:
        t = todo.pop()
        if t in seen or t not in libraries:
            continue
        seen.add(t)
        todo.extend(libraries[t][1])
    return seen


def main():
    subsystems = sorted(d for d in os.listdir(SRC) if os.path.isdir(os.path.join(SRC, d)))
    problems = []
    for sub in subsystems:
        if sub not in ALLOWED:
            problems.append(f"src/{sub}: a subsystem tests/arch/include_graph.py does not know: "
                            "add it to ALLOWED with what it may include")
    graph = {sub: {} for sub in subsystems}  # A -> {B: first "file:line"}
    used_exceptions = set()
    used_backend_exceptions = set()
    libraries = cmake_libraries()
    folder_targets = {}
    for name, (folder, _, _) in libraries.items():
        folder_targets.setdefault(folder, set()).add(name)
    for sub in subsystems:
        for path in source_files(os.path.join(SRC, sub)):
            rel = os.path.relpath(path, REPO)
            for number, inc in includes(path):
                head = inc.split("/", 1)[0]
                if head not in graph:
                    continue  # a system or third-party header
                where = f"{rel}:{number}"
                if head != sub:
                    graph[sub].setdefault(head, where)
                    allowed = (ALLOWED.get(sub, set()) | BASE) - NOT_FROM.get(sub, set())
                    if head not in allowed:
                        if (sub, head) in KNOWN_EXCEPTIONS:
                            used_exceptions.add((sub, head))
                        else:
                            problems.append(f"{where}: {sub} -> {head} ({inc}) is not an allowed "
                                            f"arrow (style.md: {sub} may include "
                                            f"{', '.join(sorted(allowed)) or 'nothing'})")
                for backend in BACKENDS:
                    if inc.startswith(backend + "/") and not rel.startswith("src/" + backend + "/"):
                        owner = os.path.relpath(os.path.dirname(path), SRC)
                        key = next((k for k in BACKEND_EXCEPTIONS
                                    if k[1] == backend and (owner + "/").startswith(k[0] + "/")), None)
                        if key:
                            used_backend_exceptions.add(key)
                            continue
                        problems.append(f"{where}: includes the backend header {inc}: only apps/ "
                                        f"and tests/ name backends; use the {backend.split('/')[0]} "
                                        "interface")
                # CMake: the including folder links a target of the included header's folder.
                header = os.path.join(SRC, inc)
                if not os.path.exists(header):
                    problems.append(f"{where}: {inc} does not exist under src/")
                    continue
                have, want = cmake_dir(path), cmake_dir(header)
                if have is None or want is None or have == want or inc in HEADER_ONLY_INTERFACES:
                    continue
                wanted = folder_targets.get(want, set())
                if not any(wanted & reachable(libraries, t) for t in folder_targets.get(have, set())):
                    problems.append(
                        f"{where}: includes {inc} but no target of {os.path.relpath(have, REPO)} "
                        f"links {' or '.join('agentd::' + t for t in sorted(wanted)) or 'a target of its folder'}")
    for edge in sorted(set(KNOWN_EXCEPTIONS) - used_exceptions):
        problems.append(f"KNOWN_EXCEPTIONS has {edge[0]} -> {edge[1]} but nothing includes it any "
                        "more: remove it")

    print("include graph of src/ (A -> B: a file under src/A includes \"B/...\"):")
    for sub in subsystems:
        edges = ", ".join(sorted(graph[sub])) or "(nothing)"
        print(f"  {sub} -> {edges}")
    for key in sorted(set(BACKEND_EXCEPTIONS) - used_backend_exceptions):
        problems.append(f"BACKEND_EXCEPTIONS has {key[0]} -> {key[1]} but nothing includes it any "
                        "more: remove it")
    if used_exceptions or used_backend_exceptions:
        print("known exceptions (style.md arrows they break, and why):")
        for a, b in sorted(used_exceptions):
            print(f"  {a} -> {b}: {KNOWN_EXCEPTIONS[(a, b)]}  (first: {graph[a][b]})")
        for a, b in sorted(used_backend_exceptions):
            print(f"  {a} -> {b} (a backend's headers): {BACKEND_EXCEPTIONS[(a, b)]}")
    if problems:
        print(f"\n{len(problems)} problem(s):")
        for p in problems:
            print("  " + p)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
