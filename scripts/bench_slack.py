#!/usr/bin/env python
"""Slack-facing speed: ack latency and time-to-answer for concurrent /ladder commands, over loopback.

    python scripts/bench_slack.py [--concurrency 20] [--rounds 5]

Serves the real Bolt app over HTTP (as in production, minus the network) against the Slack stand-in
from tests/, and sends signed slash commands in bursts of --concurrency. Reports:
  * ack latency p50 / p99: request sent -> HTTP 200 (what Slack's 3-second timeout sees);
  * answer posted p50 / p95: request sent -> the answer arrives at the response_url;
and, in the same run, the ack latency of a minimal Bolt app that only acks (the floor of this
machine's HTTP + signature check), as a ratio. Targets: ack p99 <= 50 ms, answer p95 <= 200 ms.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
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


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    from slack_bolt import App

    from bot.app import create_app, web_client
    from bot.config import Settings
    from bot.runtime import make_deps
    from bot.web import serve_in_thread, wsgi_app
    from tests.slack_standin import SlackStandIn

    with SlackStandIn() as slack, tempfile.TemporaryDirectory() as tmp:
        env = {"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": slack.api_url,
               "LADDER_DB": str(Path(tmp) / "bench.db")}
        if os.environ.get("LADDER_INDEX_DIR"):
            env["LADDER_INDEX_DIR"] = os.environ["LADDER_INDEX_DIR"]
        settings = Settings.from_env(env)
        deps = make_deps(settings)
        server, _ = serve_in_thread(wsgi_app(create_app(settings, deps), deps))
        url = f"http://127.0.0.1:{server.server_port}/slack/events"

        floor_app = App(client=web_client(settings), signing_secret=SECRET)
        floor_app.command("/ladder")(lambda ack: ack())
        floor_server, _ = serve_in_thread(wsgi_app(floor_app, deps))
        floor_url = f"http://127.0.0.1:{floor_server.server_port}/slack/events"

        question = "what do I need for senior agent?"
        burst(url, slack, args.concurrency, question)  # warm-up
        burst(floor_url, slack, args.concurrency, question, answers_expected=False)
        acks, answers, floor = [], [], []
        for _ in range(args.rounds):
            a, b = burst(url, slack, args.concurrency, question)
            acks += a
            answers += b
            floor += burst(floor_url, slack, args.concurrency, question, answers_expected=False)[0]
        server.shutdown()
        floor_server.shutdown()

    n = args.rounds * args.concurrency
    print(f"{args.rounds} bursts of {args.concurrency} concurrent signed /ladder commands over loopback ({n} each)")
    print(f"ack latency     ladder: p50 {pct(acks, 50):6.1f} ms  p99 {pct(acks, 99):6.1f} ms   (target p99 <= 50 ms)")
    print(f"ack latency  ack-only : p50 {pct(floor, 50):6.1f} ms  p99 {pct(floor, 99):6.1f} ms   "
          f"(ratio p99 {pct(acks, 99) / pct(floor, 99):.2f})")
    if answers:
        print(f"answer posted   ladder: p50 {pct(answers, 50):6.1f} ms  p95 {pct(answers, 95):6.1f} ms   "
              f"(target p95 <= 200 ms); mean {statistics.mean(answers):.1f} ms")
    else:
        print("answer posted: not all answers arrived within 30 s")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
