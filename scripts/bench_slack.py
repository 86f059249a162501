#!/usr/bin/env python
"""Slack-facing speed: ack latency and time-to-answer for concurrent /ladder commands, over loopback.

    python scripts/bench_slack.py [--concurrency 20] [--rounds 5]

Runs `ladder serve --http` in its own process (as in production, minus the network) against the Slack
stand-in from tests/, and sends signed slash commands in bursts of --concurrency. Reports:
  * ack latency p50 / p99: request sent -> HTTP 200 (what Slack's 3-second timeout sees);
  * answer posted p50 / p95: request sent -> the answer arrives at the response_url;
and, in the same run, the ack latency of a minimal Bolt app that only acks, served the same way in a
process of its own (the floor of this machine's HTTP + signature check), as a ratio. Targets: ack p99 <= 50 ms, answer p95 <= 200 ms.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
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

SECRET = "bench-secret"


def burst(url: str, slack, n: int, text: str, answers_expected: bool = True) -> tuple[list[float], list[float]]:
    from tests import slack_requests as R

    acks: list[float] = [0.0] * n
    sent_at: dict[str, float] = {}
    urls = [slack.new_response_url() for _ in range(n)]
    requests = [R.slash_command(text, user_id=f"UBENCH{i}", response_url=u) for i, u in enumerate(urls)]
    barrier = threading.Barrier(n)

    def one(i: int) -> None:
        barrier.wait()
        t = time.perf_counter()
        # keyed as the stand-in records it ("T1000001/bbcc…"); it stamps arrivals with monotonic
        sent_at[urls[i].rstrip("/").split("/response/", 1)[1]] = time.monotonic()
        status, _, _ = R.post(url, requests[i], secret=SECRET)
        acks[i] = (time.perf_counter() - t) * 1000
        assert status == 200, status

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    answers: list[float] = []
    if not answers_expected:
        return acks, answers
    deadline = time.time() + 30
    while time.time() < deadline:
        got: dict[str, float] = {}
        for call in slack.responses:
            rid = call.raw_args.get("response_url_id")
            if rid in sent_at and rid not in got:
                got[rid] = call.at
        if len(got) >= n:
            answers = [(got[rid] - sent_at[rid]) * 1000 for rid in sent_at]
            break
        time.sleep(0.005)
    return acks, answers


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def spawn(argv: list[str], **kwargs) -> subprocess.Popen:
    """A server process whose log goes to a file: a pipe nobody reads fills up after 64 KB of log lines
    (one per refused request in a flood) and then blocks every thread that logs, acks included."""
    log = tempfile.NamedTemporaryFile(prefix="ladder-bench-", suffix=".log", delete=False)
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=log, **kwargs)
    proc.log_path = log.name
    log.close()
    return proc


def log_tail(proc: subprocess.Popen, n: int = 2000) -> str:
    return Path(proc.log_path).read_text(errors="replace")[-n:]


def wait_up(url: str, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}: {log_tail(proc)}")
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.1)
    raise SystemExit(f"server at {url} did not come up")


def floor_server(api_url: str, port: int) -> None:
    """A Bolt app that only acks, served the same way: the floor of this machine's HTTP + signature check."""
    from slack_bolt import App

    from bot.slack.app import web_client
    from bot.core.config import Settings
    from bot.slack.web import make_http_server

    settings = Settings.from_env({"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": SECRET,
                                  "SLACK_API_URL": api_url})
    app = App(client=web_client(settings), signing_secret=SECRET)
    app.command("/ladder")(lambda ack: ack())

    def application(environ, start_response):
        if environ.get("PATH_INFO") == "/healthz":
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [b"ok"]
        from slack_bolt.adapter.wsgi import SlackRequestHandler

        return SlackRequestHandler(app)(environ, start_response)

    make_http_server(application, port=port).serve_forever()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--floor-server", nargs=2, metavar=("API_URL", "PORT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.floor_server:
        floor_server(args.floor_server[0], int(args.floor_server[1]))
        return 0

    from tests.slack_standin import SlackStandIn

    # Each server runs in its own process, as in production: the stand-in and the load generator in this
    # one would otherwise share a GIL with the server under test.
    with SlackStandIn() as slack, tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": SECRET,
               "SLACK_API_URL": slack.api_url, "LADDER_DB": str(Path(tmp) / "bench.db"), "PYTHONPATH": str(ROOT)}
        env.pop("SLACK_APP_TOKEN", None)
        port, floor_port = free_port(), free_port()
        ladder = spawn([sys.executable, "-m", "bot", "serve", "--http", "--port", str(port)], env=env, cwd=tmp)
        floor = spawn([sys.executable, __file__, "--floor-server", slack.api_url, str(floor_port)], env=env)
        try:
            wait_up(f"http://127.0.0.1:{port}/healthz", ladder)
            wait_up(f"http://127.0.0.1:{floor_port}/healthz", floor)
            url = f"http://127.0.0.1:{port}/slack/events"
            floor_url = f"http://127.0.0.1:{floor_port}/slack/events"
            question = "what do I need for senior agent?"
            burst(url, slack, args.concurrency, question)  # warm-up
            burst(floor_url, slack, args.concurrency, question, answers_expected=False)
            acks, answers, floor_acks = [], [], []
            for _ in range(args.rounds):
                a, b = burst(url, slack, args.concurrency, question)
                acks += a
                answers += b
                floor_acks += burst(floor_url, slack, args.concurrency, question, answers_expected=False)[0]
        finally:
            for proc in (ladder, floor):
                proc.terminate()
                proc.wait(10)

    n = args.rounds * args.concurrency
    print(f"{args.rounds} bursts of {args.concurrency} concurrent signed /ladder commands over loopback ({n} each)")
    print(f"ack latency     ladder: p50 {pct(acks, 50):6.1f} ms  p99 {pct(acks, 99):6.1f} ms   (target p99 <= 50 ms)")
    print(f"ack latency  ack-only : p50 {pct(floor_acks, 50):6.1f} ms  p99 {pct(floor_acks, 99):6.1f} ms   "
          f"(ratio p99 {pct(acks, 99) / pct(floor_acks, 99):.2f})")
    if answers:
        print(f"answer posted   ladder: p50 {pct(answers, 50):6.1f} ms  p95 {pct(answers, 95):6.1f} ms   "
              f"(target p95 <= 200 ms); mean {statistics.mean(answers):.1f} ms")
    else:
        print("answer posted: not all answers arrived within 30 s")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
