#!/usr/bin/env python3
"""Every command the docs tell a user to run is run by `make test` (docs/testing.md, "Doc blocks").

  tests/docs/doc_blocks.py --check            every block is run, covered by a named test, or
                                             skipped with a reason; fails otherwise (no build needed)
  tests/docs/doc_blocks.py --list             the inventory: every block and how it is handled
  tests/docs/doc_blocks.py --run [FILTER...]  run the runnable blocks against build/agentd
                                             (FILTER: a path, path:line or path#session)

Where blocks are found: README.md, docs/*.md, the README.md files under src/, apps/, bench/ and
tests/, and the header lines of every file under examples/ (`// Validate:`, `// Run:`, `// Try:`,
or with `#` in files whose comments start so).

A fenced block tagged sh, bash, shell, console, js or mjs is a command block and needs a marker,
an HTML comment on the nearest non-blank line above it:

  <!-- doc-test: run [session=NAME] [serve] [ready=PORT,...] [pg=HOST:PORT] [redis=HOST:PORT]
                     [timeout=SECONDS] [expect="TEXT"]... -->
  <!-- doc-test: covered-by PATH REASON -->
  <!-- doc-test: skip REASON -->

Every other fence needs a tag (text, json, jsonc, cmake, ...); an untagged fence, or a text block
whose lines look like commands, is an error. In examples/ the same markers are comment lines
(`// doc-test: ...` or `# doc-test: ...`) above a header command line.

How a block runs, what is substituted (free ports, the harness's PostgreSQL/Redis) and what is
checked: docs/testing.md, "Doc blocks". Skipped and covered-by blocks still get their `agentd`
lines' flags checked against `agentd <command> --help` under --run.
"""

import argparse
import dataclasses
import http.client
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))

COMMAND_TAGS = {"sh", "bash", "shell", "console", "js", "mjs", "javascript"}
HEADER_LABELS = {"Validate", "Run", "Try"}
DEFAULT_PORT = 8123
DEFAULT_TIMEOUT_S = 120
READY_TIMEOUT_S = 120
STOP_GRACE_S = 15
# A text block is "commands in disguise" when a line starts like a command a reader would run.
COMMANDISH = re.compile(
    r"^\s*(\$ |agentd |make |cmake |ctest |ninja |node |npm |curl |tests/|build/|bench/|scripts/|"
    r"\(cd |[A-Z][A-Z0-9_]*=\S* +(agentd|make|tests/|node|build/|bench/)\b)")
PORT_PATTERNS = [
    re.compile(r"(?:127\.0\.0\.1|localhost|0\.0\.0\.0|\[::1\]):(\d{2,5})(?!\d)"),
    re.compile(r"--port[= ](\d{2,5})(?!\d)"),
]
HYGIENE = [
    (re.compile(r"^(NOTICE|WARNING|INFO|DEBUG|LOG):  "), "a raw libpq notice reached the output"),
    (re.compile(r"^\d{4}-\d\d-\d\dT[\d:.]+Z \w+ \[\] "), "a log line with an empty logger name"),
]


class DocError(Exception):
    pass


@dataclasses.dataclass
class Marker:
    kind: str                      # run | skip | covered-by
    line: int
    options: dict = dataclasses.field(default_factory=dict)
    expects: list = dataclasses.field(default_factory=list)
    reason: str = ""
    path: str = ""


@dataclasses.dataclass
class Block:
    file: str                      # repo-relative
    line: int                      # 1-based line of the opening fence (or header line)
    tag: str
    text: str
    marker: Marker | None = None
    expected: list = dataclasses.field(default_factory=list)   # from a following text block
    console: list = dataclasses.field(default_factory=list)    # [(command, [expected lines])]
    header_label: str = ""         # Validate/Run/Try for example headers
    end: int = 0                   # 0-based index of the closing fence

    @property
    def where(self):
        return f"{self.file}:{self.line}"

    @property
    def is_command(self):
        return self.tag in COMMAND_TAGS

    @property
    def serve(self):
        return self.marker is not None and "serve" in self.marker.options

    @property
    def session(self):
        name = self.marker.options.get("session") if self.marker else None
        return f"{self.file}#{name}" if name else f"{self.file}:{self.line}"


# ----------------------------------------------------------------------------- finding blocks

def doc_files():
    files = []
    if os.path.isfile(os.path.join(REPO, "README.md")):
        files.append("README.md")
    for top, recursive in (("docs", False), ("src", True), ("apps", True), ("bench", True),
                           ("tests", True), ("examples", True)):
        root = os.path.join(REPO, top)
        if not os.path.isdir(root):
            continue
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(d for d in dirnames if d not in ("node_modules", ".git"))
            for name in sorted(filenames):
                rel = os.path.relpath(os.path.join(dirpath, name), REPO)
                if top == "docs" and name.endswith(".md"):
                    files.append(rel)
                elif top == "examples":
                    files.append(rel)
                elif name == "README.md" and top not in ("docs", "examples"):
                    files.append(rel)
            if not recursive:
                break
    return files


def parse_marker(body, line, where):
    body = body.strip()
    kind, _, rest = body.partition(" ")
    rest = rest.strip()
    m = Marker(kind=kind, line=line)
    if kind == "skip":
        if len(rest.split()) < 3:
            raise DocError(f"{where}: `doc-test: skip` needs a reason of a few words")
        m.reason = rest
    elif kind == "covered-by":
        path, _, reason = rest.partition(" ")
        if not path:
            raise DocError(f"{where}: `doc-test: covered-by` needs a path")
        m.path, m.reason = path, reason.strip()
    elif kind == "run":
        try:
            words = shlex.split(rest)
        except ValueError as e:
            raise DocError(f"{where}: bad marker options: {e}")
        for w in words:
            key, eq, value = w.partition("=")
            if key == "expect" and eq:
                m.expects.append(value)
            elif key == "serve" and not eq:
                m.options["serve"] = True
            elif key in ("session", "ready", "pg", "redis", "timeout") and eq and value:
                m.options[key] = value
            else:
                raise DocError(f"{where}: unknown run option '{w}'")
        if "timeout" in m.options and not m.options["timeout"].isdigit():
            raise DocError(f"{where}: timeout= takes seconds")
    else:
        raise DocError(f"{where}: marker must be `doc-test: run|skip|covered-by ...`, got '{body}'")
    return m


MD_MARKER = re.compile(r"^\s*<!--\s*doc-test:(.*?)-->\s*$")
FENCE = re.compile(r"^(\s*)(`{3,})\s*([\w+-]*)\s*$")


def parse_markdown(rel, text, errors):
    lines = text.split("\n")
    blocks = []
    pending = None          # marker seen, waiting for its block
    last_nonblank = None    # index of the last non-blank line outside a block
    i = 0
    while i < len(lines):
        line = lines[i]
        mm = MD_MARKER.match(line)
        if mm:
            if pending is not None:
                errors.append(f"{rel}:{pending.line}: marker not followed by a fenced block")
            try:
                pending = parse_marker(mm.group(1), i + 1, f"{rel}:{i + 1}")
            except DocError as e:
                errors.append(str(e))
                pending = None
            last_nonblank = i
            i += 1
            continue
        fm = FENCE.match(line)
        if fm:
            indent, ticks, tag = fm.group(1), fm.group(2), fm.group(3).lower()
            body = []
            j = i + 1
            while j < len(lines):
                close = re.match(r"^\s*(`{3,})\s*$", lines[j])
                if close and len(close.group(1)) >= len(ticks):
                    break
                stripped = lines[j][len(indent):] if lines[j].startswith(indent) else lines[j].lstrip()
                body.append(stripped)
                j += 1
            if j >= len(lines):
                errors.append(f"{rel}:{i + 1}: unclosed fence")
                return blocks
            block = Block(file=rel, line=i + 1, tag=tag, text="\n".join(body) + "\n", end=j)
            if pending is not None and last_nonblank == pending.line - 1:
                block.marker = pending
            elif pending is not None:
                errors.append(f"{rel}:{pending.line}: marker not right above a fenced block")
            pending = None
            blocks.append(block)
            last_nonblank = j
            i = j + 1
            continue
        if line.strip():
            if pending is not None:
                errors.append(f"{rel}:{pending.line}: marker not followed by a fenced block")
                pending = None
            last_nonblank = i
        i += 1
    if pending is not None:
        errors.append(f"{rel}:{pending.line}: marker at the end of the file")
    # A text block right after a command block (only blank lines between) is its expected output.
    for a, b in zip(blocks, blocks[1:]):
        if a.is_command and b.tag == "text" and all(not g.strip() for g in lines[a.end + 1:b.line - 1]):
            a.expected = b.text.split("\n")
    for b in blocks:
        if b.tag == "console":
            b.console = parse_console(b.text)
    return blocks


def parse_console(text):
    out = []
    lines = text.rstrip("\n").split("\n")
    i = 0
    while i < len(lines):
        if lines[i].startswith("$ "):
            cmd = lines[i][2:]
            while cmd.endswith("\\") and i + 1 < len(lines):
                i += 1
                cmd = cmd + "\n" + lines[i]
            out.append([cmd, []])
        elif out:
            out[-1][1].append(lines[i])
        i += 1
    return out


HEADER_LINE = re.compile(r"^\s*(?://|#)\s*(\w+):\s+(.*)$")
HEADER_MARKER = re.compile(r"^\s*(?://|#)\s*doc-test:(.*)$")
HEADER_EXPECT = re.compile(r"^\s*(?://|#)\s*->\s?(.*)$")


def parse_example(rel, text, errors):
    """Command lines in the leading comment (`//` or `#` lines) of an example file
    (`// Run:  agentd ...`, `# Try:  curl ...`)."""
    blocks = []
    pending = None
    lines = text.split("\n")
    i = 1 if lines and lines[0].startswith("#!") else 0
    while i < len(lines) and lines[i].lstrip().startswith(("//", "#")):
        line = lines[i]
        mk = HEADER_MARKER.match(line)
        hm = HEADER_LINE.match(line)
        if mk:
            try:
                pending = parse_marker(mk.group(1), i + 1, f"{rel}:{i + 1}")
            except DocError as e:
                errors.append(str(e))
            i += 1
            continue
        if hm and hm.group(1) in HEADER_LABELS:
            start = i
            cmd = hm.group(2).rstrip()
            while cmd.endswith("\\") and i + 1 < len(lines):
                i += 1
                cmd = cmd + "\n" + re.sub(r"^\s*(?://|#)", "", lines[i]).rstrip()
            block = Block(file=rel, line=start + 1, tag="sh", text=cmd + "\n", header_label=hm.group(1))
            # Every header line of one file is one session: Run starts what Try talks to.
            block.marker = pending or Marker(kind="run", line=start + 1)
            if block.marker.kind == "run":
                block.marker.options.setdefault("session", "header")
                if hm.group(1) == "Run":
                    block.marker.options["serve"] = True
            pending = None
            while i + 1 < len(lines) and HEADER_EXPECT.match(lines[i + 1]):
                i += 1
                block.expected.append(HEADER_EXPECT.match(lines[i]).group(1))
            blocks.append(block)
        elif pending is not None and line.strip() not in ("//", "#"):
            errors.append(f"{rel}:{pending.line}: marker not followed by a command line")
            pending = None
        i += 1
    return blocks


def find_blocks():
    errors = []
    blocks = []
    for rel in doc_files():
        with open(os.path.join(REPO, rel), encoding="utf-8", errors="replace") as f:
            text = f.read()
        if rel.startswith("examples/"):
            blocks += parse_example(rel, text, errors)
        else:
            blocks += parse_markdown(rel, text, errors)
    return blocks, errors


def test_sources():
    """The text of every file under tests/ but tests/docs (what a test may name an example by)."""
    texts = []
    for dirpath, dirnames, filenames in os.walk(os.path.join(REPO, "tests")):
        dirnames[:] = [d for d in dirnames if d not in ("node_modules", "docs", "corpus")]
        for name in filenames:
            path = os.path.join(dirpath, name)
            if os.path.getsize(path) > 1 << 20:
                continue
            try:
                with open(path, encoding="utf-8") as f:
                    texts.append(f.read())
            except (UnicodeDecodeError, OSError):
                continue
    return "\n".join(texts)


def check_examples(blocks, errors):
    """Every file under examples/ is run: by its own header lines, or by a test under tests/ or
    a run block that names it or a folder above it (examples/graphs/demo)."""
    named = test_sources() + "\n".join(b.text for b in blocks
                                       if b.marker is not None and b.marker.kind == "run")
    with_header = {b.file for b in blocks if b.file.startswith("examples/")}
    for rel in doc_files():
        if not rel.startswith("examples/") or rel in with_header:
            continue
        parts = rel.split("/")
        candidates = ["/".join(parts[:k]) for k in range(2, len(parts) + 1)]
        if not any(re.search(re.escape(c) + r"(?![\w.-])", named) for c in candidates):
            errors.append(f"{rel}: an example nothing runs: give it `// Run:` / `// Try:` header lines, "
                          "or name it (or its folder) in a test under tests/")


def check_links(errors):
    """A doc that sends the reader to a file that is not there (examples/agentd.json linked a
    docs/mock-llm.md that did not exist): relative Markdown links and docs/*.md mentions."""
    for rel in doc_files():
        with open(os.path.join(REPO, rel), encoding="utf-8", errors="replace") as f:
            text = f.read()
        targets = []
        if rel.endswith(".md"):
            for m in re.finditer(r"\]\(([^)\s]+)\)", text):
                link = m.group(1).split("#")[0]
                if link and not re.match(r"^[a-z]+:", link):
                    targets.append((link, os.path.normpath(os.path.join(os.path.dirname(rel), link))))
        for m in re.finditer(r"(?<![\w/.-])(docs/[\w.-]+\.md)", text):
            targets.append((m.group(1), m.group(1)))
        for shown, path in targets:
            if not os.path.exists(os.path.join(REPO, path)):
                errors.append(f"{rel}: names {shown}, which does not exist")


def check(blocks, errors):
    check_examples(blocks, errors)
    check_links(errors)
    for b in blocks:
        if not b.tag:
            errors.append(f"{b.where}: untagged fence: tag it (sh/console for commands a reader runs, "
                          "text for output, json, ...)")
            continue
        if not b.is_command:
            if b.marker is not None:
                errors.append(f"{b.where}: a doc-test marker on a '{b.tag}' block (only command blocks run)")
            if b.tag in ("text", "txt", "plain"):
                for n, ln in enumerate(b.text.split("\n")):
                    if COMMANDISH.match(ln):
                        errors.append(f"{b.where}: line {n + 1} looks like a command ('{ln.strip()}'): "
                                      "tag the block sh (or console) and mark it")
                        break
            continue
        if b.marker is None:
            errors.append(f"{b.where}: command block without a marker: add <!-- doc-test: run ... -->, "
                          "covered-by PATH or skip REASON right above it (docs/testing.md)")
            continue
        m = b.marker
        if m.kind == "covered-by":
            target = os.path.join(REPO, m.path)
            if not os.path.exists(target):
                errors.append(f"{b.where}: covered-by names {m.path}, which does not exist")
            elif not m.reason:
                errors.append(f"{b.where}: covered-by {m.path} needs a reason (what there runs it)")
        if m.kind == "run" and b.tag == "console" and not b.console:
            errors.append(f"{b.where}: console block without `$ ` command lines")
    return errors


# ----------------------------------------------------------------------------- running blocks

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ports_named(text):
    found = []
    for pat in PORT_PATTERNS:
        for m in pat.finditer(text):
            p = int(m.group(1))
            if p not in found:
                found.append(p)
    return found


def wait_for(cond, timeout_s, what, proc=None, log_path=None):
    deadline = time.monotonic() + timeout_s
    delay = 0.02
    while True:
        if cond():
            return
        if proc is not None and proc.poll() is not None:
            raise DocError(f"{what}: the block exited (status {proc.returncode}) before it was ready"
                           + tail(log_path))
        if time.monotonic() >= deadline:
            raise DocError(f"{what}: not ready within {timeout_s} s" + tail(log_path))
        time.sleep(delay)          # polling a condition with a bound, not a blind wait
        delay = min(delay * 2, 0.2)


def tail(path, n=40):
    if not path or not os.path.exists(path):
        return ""
    with open(path, encoding="utf-8", errors="replace") as f:
        lines = f.read().split("\n")
    return "\n--- last lines of its output ---\n" + "\n".join(lines[-n:])


def http_ok(port, path="/ok"):
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        c.request("GET", path)
        r = c.getresponse()
        r.read()
        c.close()
        return r.status == 200
    except OSError:
        return False


def tcp_open(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def group_alive(pgid):
    """Whether a live (not zombie) process is left in the process group."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if fields[0] != "Z" and int(fields[2]) == pgid:
            return True
    return False


def stop_group(proc):
    """Ends the block's process group (its leader is the process we started, so the group id is
    its PID): SIGTERM, a bounded wait for every member to exit (servers drain), then SIGKILL."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    deadline = time.monotonic() + STOP_GRACE_S
    while time.monotonic() < deadline:
        proc.poll()
        if not group_alive(proc.pid):
            break
        time.sleep(0.05)           # polling the group's exit with a bound
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait(timeout=STOP_GRACE_S)


def check_output(output, expected, expects, what):
    lines = output.split("\n")
    for pat, problem in HYGIENE:
        for ln in lines:
            if pat.search(ln):
                raise DocError(f"{what}: {problem}: {ln!r}")
    pos = 0
    for want in expected:
        want = want.strip()
        if not want or want == "...":
            continue
        while pos < len(lines) and want not in lines[pos]:
            pos += 1
        if pos >= len(lines):
            raise DocError(f"{what}: expected output line not found (in order): {want!r}\n"
                           f"--- output ---\n{output}")
        pos += 1
    for want in expects:
        if want not in output:
            raise DocError(f"{what}: expected {want!r} in the output\n--- output ---\n{output}")


def checkout_state():
    """What git sees in the checkout: changed and untracked files one by one, ignored ones (./data)
    by top directory; build trees and node_modules left out. None without git."""
    state = set()
    for args in (["--untracked-files=all"], ["--ignored", "--untracked-files=normal"]):
        try:
            out = subprocess.run(["git", "-C", REPO, "status", "--porcelain"] + args,
                                 capture_output=True, text=True, timeout=60)
        except (OSError, subprocess.TimeoutExpired):
            return None
        if out.returncode != 0:
            return None
        for ln in out.stdout.split("\n"):
            path = ln[3:]
            if not path or path.startswith("build") or "node_modules" in path:
                continue
            if args[0] == "--ignored" and not ln.startswith("!!"):
                continue
            state.add(ln)
    return state


class Session:
    def __init__(self, key, blocks, agentd):
        self.key = key
        self.blocks = blocks
        self.agentd = agentd
        self.tmp = None
        self.servers = []         # (block, proc, log_path)
        self.subst = {}           # literal -> replacement

    def services(self):
        want = []
        for b in self.blocks:
            for s in ("pg", "redis"):
                if s in b.marker.options and s not in want:
                    want.append(s)
        return want

    def setup(self):
        self.tmp = tempfile.mkdtemp(prefix="agentd-doc-")
        bindir = os.path.join(self.tmp, "bin")
        os.makedirs(bindir)
        os.symlink(self.agentd, os.path.join(bindir, "agentd"))
        nm = os.path.join(REPO, "tests", "e2e", "node_modules")
        if os.path.isdir(nm):
            os.symlink(nm, os.path.join(self.tmp, "node_modules"))
        # As a user's shell: no AGENTD_* settings of the caller, no make or ctest state.
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("AGENTD_", "CTEST_")) and k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
        env["PATH"] = bindir + os.pathsep + env.get("PATH", "")
        self.port = free_port()
        env["AGENTD_PORT"] = str(self.port)
        env["AGENTD_DATA_DIR"] = os.path.join(self.tmp, "data")
        self.subst[str(DEFAULT_PORT)] = str(self.port)
        for b in self.blocks:
            for p in ports_named(b.text):
                if str(p) not in self.subst:
                    self.subst[str(p)] = str(free_port())
            for svc, var in (("pg", "AGENTD_TEST_PG_DSN"), ("redis", "AGENTD_TEST_REDIS_URL")):
                literal = b.marker.options.get(svc)
                if literal:
                    url = os.environ.get(var)
                    if not url:
                        raise DocError(f"{b.where}: {svc}= needs {var} (run under tests/harness/with-services)")
                    self.subst[literal] = re.match(r"^\w+://(?:[^@/]*@)?([^/]+)", url).group(1)
        self.env = env

    def substitute(self, text):
        """Every literal at once, so a replacement is never replaced again."""
        if not self.subst:
            return text
        alternatives = "|".join(re.escape(k) for k in sorted(self.subst, key=len, reverse=True))
        return re.sub(r"(?<![\w.])(" + alternatives + r")(?!\w)", lambda m: self.subst[m.group(1)], text)

    def materialise_files(self, text):
        """Data files the block names that use a replaced port (as `host:N` or `--port N`) or
        host get a replaced copy. Programs are never copied (their own paths would change)."""
        for token in set(re.findall(r"[\w./-]+", text)):
            path = os.path.join(REPO, token)
            if (not os.path.isfile(path) or os.access(path, os.X_OK)
                    or os.path.getsize(path) > 1 << 20):
                continue
            try:
                with open(path, encoding="utf-8") as f:
                    content = f.read()
            except UnicodeDecodeError:
                continue
            used = {str(p) for p in ports_named(content)} | {k for k in self.subst if ":" in k and k in content}
            if not used & set(self.subst):
                continue
            replaced = self.substitute(content)
            copy = os.path.join(self.tmp, "files", token)
            os.makedirs(os.path.dirname(copy), exist_ok=True)
            with open(copy, "w", encoding="utf-8") as f:
                f.write(replaced)
            text = re.sub(r"(?<![\w./-])" + re.escape(token) + r"(?![\w./-])", copy, text)
        return text

    def script_for(self, block, index):
        text = self.materialise_files(self.substitute(block.text))
        if block.tag in ("js", "mjs", "javascript"):
            path = os.path.join(self.tmp, f"block{index}.mjs")
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
            return ["node", path], text
        if block.tag == "console":
            parts = []
            for n, (cmd, _) in enumerate(block.console):
                parts.append(f"printf '\\n@@doc-test command {n}@@\\n'")   # output may lack a newline
                parts.append(self.materialise_files(self.substitute(cmd)))
            text = "\n".join(parts) + "\n"
        return ["bash", "-e", "-o", "pipefail", "-c", text], text

    def run(self, log):
        self.setup()
        try:
            for index, block in enumerate(self.blocks):
                self.run_block(block, index, log)
            self.stop_servers(log)
        finally:
            for block, proc, _ in self.servers:
                stop_group(proc)
            if self.tmp:
                shutil.rmtree(self.tmp, ignore_errors=True)

    def run_block(self, block, index, log):
        argv, text = self.script_for(block, index)
        what = f"{block.where} ({block.tag}{' ' + block.header_label if block.header_label else ''})"
        log(f"  {what}: {'serve' if block.serve else 'run'}:\n" + indent(text))
        log_path = os.path.join(self.tmp, f"block{index}.log")
        with open(log_path, "wb") as out:
            proc = subprocess.Popen(argv, cwd=REPO, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, start_new_session=True)
        if block.serve:
            self.servers.append((block, proc, log_path))
            ready = block.marker.options.get("ready")
            if ready:
                ports = [int(self.substitute(p)) for p in ready.split(",")]
            else:
                ports = [int(self.subst[str(p)]) for p in ports_named(block.text)]
                if self.port not in ports:
                    ports.insert(0, self.port)
            bound = int(block.marker.options.get("timeout", READY_TIMEOUT_S))
            for p in ports:
                if p == self.port and not ready:
                    wait_for(lambda: http_ok(p), bound, f"{what}: agentd on port {p}", proc, log_path)
                else:
                    wait_for(lambda: tcp_open(p), bound, f"{what}: port {p}", proc, log_path)
            return
        timeout = int(block.marker.options.get("timeout", DEFAULT_TIMEOUT_S))
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            stop_group(proc)
            raise DocError(f"{what}: did not finish within {timeout} s" + tail(log_path))
        stop_group(proc)     # whatever it left in the background
        with open(log_path, encoding="utf-8", errors="replace") as f:
            output = f.read()
        if proc.returncode != 0:
            raise DocError(f"{what}: exit status {proc.returncode}\n--- output ---\n{output}")
        if block.tag == "console":
            pieces = re.split(r"^@@doc-test command (\d+)@@\n?", output, flags=re.M)
            by_cmd = {int(pieces[k]): pieces[k + 1] for k in range(1, len(pieces) - 1, 2)}
            for n, (cmd, expected) in enumerate(block.console):
                check_output(by_cmd.get(n, ""), [self.substitute(e) for e in expected], [], f"{what}: $ {cmd}")
        self.check(block, output, what)

    def stop_servers(self, log):
        for block, proc, log_path in self.servers:
            what = f"{block.where} (server)"
            if proc.poll() is not None:
                raise DocError(f"{what}: exited (status {proc.returncode}) while its session ran"
                               + tail(log_path))
            stop_group(proc)
            with open(log_path, encoding="utf-8", errors="replace") as f:
                output = f.read()
            self.check(block, output, what)
        self.servers = []

    def check(self, block, output, what):
        check_output(output, [self.substitute(e) for e in block.expected],
                     [self.substitute(e) for e in block.marker.expects], what)


def indent(text):
    return "".join("      " + ln + "\n" for ln in text.rstrip("\n").split("\n"))


def sessions_of(blocks):
    sessions = {}
    for b in blocks:
        if b.is_command and b.marker is not None and b.marker.kind == "run":
            sessions.setdefault(b.session, []).append(b)
    return sessions


def selected(key, blocks, filters):
    if not filters:
        return True
    for f in filters:
        if f == key or f == blocks[0].file or any(f == b.where for b in blocks):
            return True
    return False


def run_sessions(sessions, agentd, filters, inside_services):
    failures = []
    ran = 0
    for key, blocks in sessions.items():
        if not selected(key, blocks, filters):
            continue
        svc = Session(key, blocks, agentd).services()
        if not inside_services:
            print(f"doc-test: {key} ({len(blocks)} block{'s' if len(blocks) != 1 else ''}"
                  f"{', services ' + ','.join(svc) if svc else ''})", flush=True)
        before = checkout_state()
        started = time.monotonic()
        try:
            if svc and not inside_services:
                cmd = [os.path.join(REPO, "tests", "harness", "with-services")]
                cmd += [f"--{s}" for s in svc]
                cmd += ["--", sys.executable, os.path.abspath(__file__), "--run", "--inside-services",
                        "--agentd", agentd, key]
                rc = subprocess.run(cmd, timeout=600).returncode
                if rc != 0:
                    raise DocError(f"{key}: failed under with-services (status {rc}; details above)")
            else:
                lines = []
                try:
                    Session(key, blocks, agentd).run(lines.append)
                finally:
                    print("\n".join(lines), flush=True)
            after = checkout_state()
            if before is not None and after is not None and after != before:
                raise DocError(f"{key}: the checkout changed: " + ", ".join(sorted(after ^ before)))
            ran += 1
            if not inside_services:
                print(f"doc-test: {key}: ok ({time.monotonic() - started:.1f} s)", flush=True)
        except (DocError, subprocess.TimeoutExpired) as e:
            print(f"doc-test: FAILED {e}", flush=True)
            failures.append(key)
    return ran, failures


def check_flags_of_unrun(blocks, agentd):
    """A block that is skipped or covered elsewhere still names real flags: each `agentd ...`
    line's --flags must appear in `agentd <command> --help`."""
    helps = {}
    problems = []
    for b in blocks:
        if not b.is_command or b.marker is None or b.marker.kind == "run" or b.tag not in ("sh", "bash", "shell"):
            continue
        for n, line in enumerate(b.text.replace("\\\n", " ").split("\n")):
            try:
                words = shlex.split(line, comments=True)
            except ValueError:
                continue
            while words and re.match(r"^[A-Z_][A-Z0-9_]*=", words[0]):
                words = words[1:]
            if not words or os.path.basename(words[0]) != "agentd":
                continue
            command = words[1] if len(words) > 1 and not words[1].startswith("-") else "serve"
            if command not in helps:
                r = subprocess.run([agentd, command, "--help"], capture_output=True, text=True, timeout=30)
                helps[command] = r.stdout + r.stderr if r.returncode == 0 else None
            if helps[command] is None:
                problems.append(f"{b.file}:{b.line + n + 1}: `agentd {command} --help` fails")
                continue
            for w in words[1:]:
                flag = w.strip("[]").split("=")[0]
                if flag.startswith("--") and re.search(re.escape(flag) + r"(?![\w-])", helps[command]) is None:
                    problems.append(f"{b.file}:{b.line + n + 1}: `agentd {command}` has no flag {flag}")
    return problems


def describe(b):
    if not b.is_command:
        return None
    m = b.marker
    if m is None:
        return "UNMARKED"
    if m.kind == "run":
        opts = " ".join(f"{k}={v}" if v is not True else k for k, v in m.options.items())
        opts += "".join(f' expect="{e}"' for e in m.expects)
        checks = " (+ expected output)" if b.expected or any(c[1] for c in b.console) else ""
        return f"run {opts}".strip() + checks
    if m.kind == "covered-by":
        return f"covered-by {m.path}: {m.reason}"
    return f"skip: {m.reason}"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = ap.add_mutually_exclusive_group(required=True)
    mode.add_argument("--check", action="store_true")
    mode.add_argument("--list", action="store_true")
    mode.add_argument("--run", action="store_true")
    ap.add_argument("--agentd", default=os.environ.get("AGENTD_BIN", os.path.join(REPO, "build", "agentd")))
    ap.add_argument("--inside-services", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("filters", nargs="*")
    args = ap.parse_args()

    blocks, errors = find_blocks()
    errors = check(blocks, errors)
    if args.list:
        for b in blocks:
            d = describe(b)
            if d is not None:
                label = f" {b.header_label}" if b.header_label else ""
                first = b.text.strip().split("\n")[0]
                print(f"{b.where} [{b.tag}{label}] {d}\n    {first}")
        return 1 if errors else 0
    if errors:
        print("doc blocks: " + str(len(errors)) + " problem(s):", file=sys.stderr)
        for e in errors:
            print("  " + e, file=sys.stderr)
        return 1
    commands = [b for b in blocks if b.is_command]
    counts = {k: sum(1 for b in commands if b.marker.kind == k) for k in ("run", "covered-by", "skip")}
    if args.check:
        print(f"doc blocks: {len(commands)} command blocks: {counts['run']} run, "
              f"{counts['covered-by']} covered by other tests, {counts['skip']} skipped with a reason")
        return 0
    agentd = os.path.abspath(args.agentd)
    if not os.access(agentd, os.X_OK):
        print(f"doc blocks: {agentd} not found; build it first (make build)", file=sys.stderr)
        return 1
    if not args.inside_services and not args.filters:
        problems = check_flags_of_unrun(blocks, agentd)
        for p in problems:
            print(f"doc-test: FAILED {p}", flush=True)
        if problems:
            return 1
    ran, failures = run_sessions(sessions_of(blocks), agentd, args.filters, args.inside_services)
    if args.inside_services:
        return 1 if failures else 0
    print(f"doc blocks: {ran} session(s) passed, {len(failures)} failed"
          + (": " + ", ".join(failures) if failures else ""))
    return 1 if failures or (args.filters and ran == 0) else 0


if __name__ == "__main__":
    sys.exit(main())
