#!/usr/bin/env python
"""Chaos probes against real Ladder servers on 127.0.0.1 with the Slack stand-in from tests/.

    python scripts/chaos.py [--probe all|boots|versions|slow|kill|kill-edit] [--boots 20] [--slow 50]

Each probe is bounded in count and time, stops its servers and prints its figures:
  * boots     cold boots of the Procfile's ``web:`` (gunicorn, 3 worker processes) on a new database:
              how many came up with every worker serving (target: all);
  * versions  HR edits saved through the Procfile's server: seconds until every worker's /healthz
              shows the new version (target <= 1 s), answers and /healthz on the newest version
              afterwards, forms refused (target 0);
  * slow      signed ``/ladder`` acks with 50 slow or idle connections held open, against the same
              run without them (target: p99 <= 100 ms);
  * kill      questions acknowledged, then the server SIGKILLed at random points and restarted:
              questions left unanswered (target 0) and answered twice (target 0);
  * kill-edit HR's edit acknowledged, the server SIGKILLed 0.05 / 0.5 / 2 s later and restarted: HR
              told it was saved (and it is live) or not saved, never nothing (target: 0 silent).
The tests in tests/test_chaos.py run the same probes with smaller counts.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from scripts.percentiles import pct  # noqa: E402

os.environ.setdefault("HF_HUB_OFFLINE", "1")
SECRET = "chaos-secret"
ADMIN = "UCHAOSADMIN"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def procfile_web(port: int, workers: int | None = None) -> list[str]:
    """The Procfile's ``web:`` command as argv, bound to 127.0.0.1:port (what production runs)."""
    line = next(ln for ln in (ROOT / "Procfile").read_text().splitlines() if ln.startswith("web:"))
    env = {"PORT": str(port), **({"WEB_CONCURRENCY": str(workers)} if workers else {})}
    line = re.sub(r"\$\{(\w+):-([^}]*)\}", lambda m: env.get(m.group(1), m.group(2)), line[4:])
    argv = [a.replace("0.0.0.0", "127.0.0.1") for a in shlex.split(line)]
    assert argv[0] == "gunicorn", argv
    return [sys.executable, "-m", "gunicorn", *argv[1:]]


class Server:
    """One Ladder server process: the Procfile's gunicorn (``kind='web'``) or ``ladder serve --http``."""

    def __init__(self, slack, index_dir: Path, db: Path, *, kind: str = "web", workers: int | None = None,
                 knowledge_dir: Path | None = None):
        self.port = free_port()
        self.kind, self.workers = kind, workers
        self.env = {**os.environ, "SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": SECRET,
                    "SLACK_API_URL": slack.api_url, "LADDER_INDEX_DIR": str(index_dir), "LADDER_DB": str(db),
                    "LADDER_ADMINS": ADMIN, "HF_HUB_OFFLINE": "1",
                    "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
        if knowledge_dir:
            self.env["LADDER_KNOWLEDGE_DIR"] = str(knowledge_dir)
        self.env.pop("SLACK_APP_TOKEN", None)
        self.proc: subprocess.Popen | None = None
        self.log = Path(tempfile.mkstemp(prefix="ladder-chaos-", suffix=".log")[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/slack/events"

    def argv(self) -> list[str]:
        if self.kind == "web":
            return procfile_web(self.port, self.workers)
        return [sys.executable, "-m", "bot", "serve", "--http", "--port", str(self.port)]

    def start(self, timeout: float = 180, all_workers: bool = True) -> float:
        """Start and wait until it answers /healthz (from every worker process); the seconds it took."""
        started = time.monotonic()
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(self.argv(), env=self.env, stdout=log, stderr=log, cwd=ROOT,
                                         start_new_session=True)
        want = (self.workers or 3) if self.kind == "web" and all_workers else 1
        seen: set[int] = set()
        deadline = started + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BootFailed(f"exited with {self.proc.returncode}: {self.tail()}")
            health = self.healthz()
            if health:
                seen.add(health.get("worker"))
                if len(seen) >= want:
                    return time.monotonic() - started
            else:
                time.sleep(0.1)
        raise BootFailed(f"{len(seen)} of {want} workers answered in {timeout:.0f} s: {self.tail()}")

    def healthz(self) -> dict | None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=5) as resp:
                return json.loads(resp.read())
        except (OSError, ValueError):
            return None

    def tail(self, n: int = 2000) -> str:
        return self.log.read_text(errors="replace")[-n:]

    def kill9(self) -> None:
        """SIGKILL the whole server (gunicorn's arbiter and its workers) at once."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.kill9()
        if self.proc:
            try:   # any worker left behind by a SIGKILLed arbiter
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


class BootFailed(RuntimeError):
    pass


def prebuilt_index(into: Path) -> Path:
    """A real index of the committed knowledge (embeddings + ONNX export), built once into ``into``."""
    from bot.core.config import Settings
    from bot.core.knowledge import load_knowledge
    from bot.wiring import build

    if not (into / "current").exists():
        build(load_knowledge(ROOT / "knowledge"), Settings(knowledge_dir=ROOT / "knowledge", index_dir=into))
    return into


def copy_index(src: Path, dst: Path) -> Path:
    """The index for a probe's server: hard links where possible (builds are never changed in place)."""
    def link(a, b):
        try:
            os.link(a, b)
        except OSError:
            shutil.copy2(a, b)
    shutil.copytree(src, dst, symlinks=True, copy_function=link)
    return dst


def say(resp) -> str:
    body = resp.body if hasattr(resp, "body") else resp
    return body.decode("utf-8", "replace") if isinstance(body, bytes) else json.dumps(body)


def slash(server: Server, slack, text: str, user: str = "UCHAOS1", timeout: float = 10.0) -> tuple[int, float, str]:
    """A signed /ladder; (status, ack ms, its response_url)."""
    from tests import slack_requests as R

    url = slack.new_response_url()
    started = time.perf_counter()
    try:
        status, _, _ = R.post(server.url, R.slash_command(text, user_id=user, response_url=url), secret=SECRET,
                              timeout=timeout)
    except OSError:
        status = 0
    return status, (time.perf_counter() - started) * 1000, url


def response_for(slack, url: str) -> list:
    rid = url.rstrip("/").split("/response/", 1)[1]
    return [c for c in slack.responses if c.raw_args.get("response_url_id") == rid]


# -- probes --------------------------------------------------------------------------------------------

def probe_boots(index_dir: Path, boots: int = 20, workers: int = 3) -> dict:
    """Cold boots of the Procfile's server, each on a new database."""
    from tests.slack_standin import SlackStandIn

    ok, seconds, failures = 0, [], []
    with SlackStandIn() as slack, tempfile.TemporaryDirectory(prefix="ladder-boots-") as tmp:
        for i in range(boots):
            server = Server(slack, index_dir, Path(tmp) / f"boot{i}.db", workers=workers)
            try:
                seconds.append(server.start(timeout=240))
                time.sleep(0.5)
                if server.proc.poll() is None:
                    ok += 1
                else:
                    failures.append(server.tail(400))
            except BootFailed as exc:
                failures.append(str(exc)[-400:])
            finally:
                server.stop()
    return {"boots": boots, "workers": workers, "ok": ok, "boot_s_p50": round(pct(seconds, 50), 1) if seconds else None,
            "failures": failures[:3]}


def edit_values(view: dict, n: int) -> dict:
    values = {b["block_id"]: {b["element"]["action_id"]: b["element"].get("initial_value") or ""}
              for b in view["blocks"] if b["type"] == "input"}
    skills = values["edit_skills"]["skills"].splitlines()
    skills[0] = re.sub(r"( \(rev \d+\))?$", f" (rev {n})", skills[0], count=1)
    values["edit_skills"]["skills"] = "\n".join(skills)
    values["edit_note"]["note"] = f"chaos edit {n}"
    return values


def submit_edit(server: Server, slack, level: str, n: int, then=None) -> tuple[str | None, str]:
    """Open the form (on whichever worker takes the command), submit it (on whichever takes that),
    call ``then()`` once it was acknowledged: (error shown in the form or None, the DM HR got)."""
    from tests import slack_requests as R

    opened = len(slack.calls("views.open"))
    slash(server, slack, f"edit {level}", user=ADMIN)
    view = slack.wait_for("views.open", timeout=30, count=opened + 1)[-1].args["view"]
    dm = slack.dm_channel(ADMIN)
    before = len(slack.messages(dm))
    status, _, body = R.post(server.url, R.view_submission("ladder_edit", edit_values(view, n), user_id=ADMIN,
                                                           private_metadata=view["private_metadata"]),
                             secret=SECRET, timeout=30)
    if status != 200:
        return f"HTTP {status}", ""
    if body.strip():
        ack = json.loads(body)
        if ack.get("response_action") == "errors":
            return json.dumps(ack["errors"]), ""
    if then is not None:
        then()
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        msgs = slack.messages(dm)
        if len(msgs) > before:
            return None, msgs[-1].get("text", "") + json.dumps(msgs[-1].get("blocks", []))
        time.sleep(0.05)
    return "no confirmation DM", ""


def probe_versions(index_dir: Path, edits: int = 2, answers: int = 45, workers: int = 3) -> dict:
    """Edits saved through the Procfile's server; every worker must follow within a second."""
    from tests.slack_standin import SlackStandIn

    lags, refused = [], []
    with SlackStandIn() as slack, tempfile.TemporaryDirectory(prefix="ladder-versions-") as tmp:
        server = Server(slack, copy_index(index_dir, Path(tmp) / "index"), Path(tmp) / "v.db", workers=workers)
        server.start()
        try:
            for n in range(1, edits + 1):
                error, dm = submit_edit(server, slack, "senior agent", n)
                if error:
                    refused.append(error)
                    continue
                confirmed = time.monotonic()
                version = re.search(r"as knowledge (\S+)", dm).group(1)
                streak, deadline = 0, confirmed + 30
                while streak < 3 * workers * 5 and time.monotonic() < deadline:   # 45 answers in a row
                    health = server.healthz() or {}
                    streak = streak + 1 if health.get("knowledge_version") == version else 0
                    if streak == 1:
                        lag = time.monotonic() - confirmed
                lags.append(round(lag, 3) if streak else None)
            newest = (server.healthz() or {}).get("knowledge_version")
            health_new = sum((server.healthz() or {}).get("knowledge_version") == newest for _ in range(answers))
            # one person each: the per-person limit would skip a burst from one asker (that is probe_fairness's)
            urls = [slash(server, slack, "what do I need for senior agent?", user=f"UVER{i}")[2] for i in range(answers)]
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and not all(response_for(slack, u) for u in urls):
                time.sleep(0.05)
            answers_new = sum(any(f"knowledge {newest}" in say(c) for c in response_for(slack, u)) for u in urls)
        finally:
            server.stop()
    return {"edits": edits, "workers": workers, "refused": refused, "lag_s": lags,
            "max_lag_s": max((x for x in lags if x is not None), default=None),
            "answers_on_newest": f"{answers_new}/{answers}", "healthz_on_newest": f"{health_new}/{answers}"}


def open_slow_connections(port: int, n: int) -> list[socket.socket]:
    """Half of them send headers and part of a body, then nothing; the other half only connect."""
    socks = []
    for i in range(n):
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        if i % 2 == 0:
            sock.sendall(b"POST /slack/events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                         b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 4000\r\n\r\ntoken=abc&")
        socks.append(sock)
    return socks


def ack_round(server: Server, slack, n: int, concurrency: int = 5) -> list[float]:
    """n signed /ladder commands, ``concurrency`` at a time: ack milliseconds (inf when none came)."""
    acks: list[float] = []
    lock = threading.Lock()

    def one(i: int) -> None:
        status, ms, _ = slash(server, slack, "help", user=f"UACK{i}")
        with lock:
            acks.append(ms if status == 200 else float("inf"))

    for start in range(0, n, concurrency):
        threads = [threading.Thread(target=one, args=(i,)) for i in range(start, min(n, start + concurrency))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    return acks


def probe_slow(index_dir: Path, slow: int = 50, requests: int = 100, workers: int = 1) -> dict:
    """Ack latency of signed /ladder with ``slow`` slow or idle connections open, against none."""
    from tests.slack_standin import SlackStandIn

    with SlackStandIn() as slack, tempfile.TemporaryDirectory(prefix="ladder-slow-") as tmp:
        server = Server(slack, index_dir, Path(tmp) / "s.db", workers=workers)
        server.start()
        try:
            ack_round(server, slack, 10)   # warm-up
            baseline = ack_round(server, slack, requests)
            socks = open_slow_connections(server.port, slow)
            try:
                held = ack_round(server, slack, requests)
                still_open = sum(_open(s) for s in socks)
            finally:
                for s in socks:
                    s.close()
        finally:
            server.stop()
    fmt = lambda xs, q: round(pct(xs, q), 1)  # noqa: E731
    return {"slow_connections": slow, "still_open": still_open, "workers": workers, "requests": requests,
            "failed": sum(x == float("inf") for x in held),
            "baseline_p50_ms": fmt(baseline, 50), "baseline_p99_ms": fmt(baseline, 99),
            "slow_p50_ms": fmt(held, 50), "slow_p99_ms": fmt(held, 99)}


def _open(sock: socket.socket) -> bool:
    sock.setblocking(False)
    try:
        return sock.recv(1) != b""
    except BlockingIOError:
        return True
    except OSError:
        return False


QUESTIONS = ["what do I need for senior agent?", "what is the next level after agent?",
             "how do I become a team lead?", "what does a quality analyst do?", "compare L2 and L3"]


def ask_in_dm(server: Server, slack, i: int) -> tuple[str, str] | None:
    """A signed DM question, as Slack sends it; (DM channel, message ts) when Ladder acknowledged it."""
    from tests import slack_requests as R

    user = f"UKILL{i % 7}"
    dm, text = slack.dm_channel(user), QUESTIONS[i % len(QUESTIONS)]
    ts = slack.add_message(dm, text, user=user)
    try:
        status, _, _ = R.post(server.url, R.event_callback(R.message_im(text, user=user, channel=dm, ts=ts)),
                              secret=SECRET, timeout=5)
    except OSError:
        return None
    return (dm, ts) if status == 200 else None


def probe_kill(index_dir: Path, questions: int = 60, kills: int = 3, workers: int = 2, seed: int = 12) -> dict:
    """Questions sent steadily; the whole server SIGKILLed ``kills`` times at random moments and started
    again. Every question Ladder acknowledged must be answered exactly once."""
    from tests.slack_standin import SlackStandIn

    rnd = random.Random(seed)
    acked: list[tuple[str, str]] = []
    with SlackStandIn() as slack, tempfile.TemporaryDirectory(prefix="ladder-kill-") as tmp:
        server = Server(slack, index_dir, Path(tmp) / "k.db", workers=workers)
        server.start()
        try:
            per_round = max(1, questions // (kills + 1))
            sent = 0
            for round_ in range(kills + 1):
                kill_after = rnd.uniform(0.2, 1.0) * per_round if round_ < kills else None
                for j in range(per_round if round_ < kills else questions - sent):
                    got = ask_in_dm(server, slack, sent)
                    sent += 1
                    if got:
                        acked.append(got)
                    if kill_after is not None and j + 1 >= kill_after:
                        time.sleep(rnd.uniform(0.0, 0.3))   # mid-answer, or between answers
                        server.kill9()
                        server.start()
                        break
                    time.sleep(0.05)
            deadline = time.monotonic() + 180
            while time.monotonic() < deadline:
                counts = [len(slack.thread(dm, ts)) - 1 for dm, ts in acked]
                if all(c >= 1 for c in counts):
                    break
                time.sleep(0.25)
            time.sleep(2)   # anything answered twice shows up by now
            replies = [[m for m in slack.thread(dm, ts) if m["ts"] != ts] for dm, ts in acked]
        finally:
            server.stop()
    late = sum(any("restarted" in json.dumps(m) for m in r) for r in replies)
    return {"sent": sent, "acknowledged": len(acked), "kills": kills, "workers": workers,
            "unanswered": sum(len(r) == 0 for r in replies), "answered_twice": sum(len(r) > 1 for r in replies),
            "answered_late_saying_so": late}


def probe_kill_edit(index_dir: Path, delays=(0.05, 0.5, 2.0), workers: int = 1) -> dict:
    """HR's edit acknowledged (the form closed), the server SIGKILLed ``delay`` seconds later and started
    again: HR must be told it was saved (and it must be live) or that it was not saved."""
    from tests.slack_standin import SlackStandIn

    outcomes = []
    with SlackStandIn() as slack, tempfile.TemporaryDirectory(prefix="ladder-kill-edit-") as tmp:
        server = Server(slack, copy_index(index_dir, Path(tmp) / "index"), Path(tmp) / "e.db", workers=workers)
        server.start()
        try:
            for n, delay in enumerate(delays, start=1):
                def crash(delay=delay):
                    time.sleep(delay)
                    server.kill9()
                    server.start(timeout=600)   # a version saved but not indexed is indexed at boot
                error, dm = submit_edit(server, slack, "senior agent", n, then=crash)
                saved = re.search(r"as knowledge (\S+)", dm or "")
                if error:
                    outcomes.append(f"{delay}s: {error}")
                elif saved:
                    live = {(server.healthz() or {}).get("knowledge_version") for _ in range(10)}
                    outcomes.append(f"{delay}s: saved, confirmed, live on every worker" if live == {saved.group(1)}
                                    else f"{delay}s: saved, confirmed, but workers serve {sorted(map(str, live))}")
                elif "not saved" in dm:
                    outcomes.append(f"{delay}s: told not saved")
                else:
                    outcomes.append(f"{delay}s: HR was told nothing")
        finally:
            server.stop()
    return {"edits": len(delays), "outcomes": outcomes,
            "silent": sum("told nothing" in o or "no confirmation" in o for o in outcomes)}


PROBES = {"boots": probe_boots, "versions": probe_versions, "slow": probe_slow, "kill": probe_kill,
          "kill-edit": probe_kill_edit}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--probe", default="all", choices=["all", *PROBES])
    parser.add_argument("--boots", type=int, default=20)
    parser.add_argument("--slow", type=int, default=50)
    parser.add_argument("--edits", type=int, default=2)
    parser.add_argument("--index", type=Path, help="a built index to copy (default: build one in a temp dir)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ladder-chaos-index-") as tmp:
        index_dir = args.index or prebuilt_index(Path(tmp) / "index")
        chosen = list(PROBES) if args.probe == "all" else [args.probe]
        for name in chosen:
            started = time.monotonic()
            kwargs = {"boots": {"boots": args.boots}, "slow": {"slow": args.slow},
                      "versions": {"edits": args.edits}}.get(name, {})
            result = PROBES[name](index_dir, **kwargs)
            result["probe_s"] = round(time.monotonic() - started, 1)
            print(f"{name}: {json.dumps(result)}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
