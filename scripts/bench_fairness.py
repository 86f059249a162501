#!/usr/bin/env python
"""Fairness: one person flooding Ladder with worst-case commands must not slow anyone else down.

    python scripts/bench_fairness.py [--people 4] [--questions 30] [--flood 8]

Runs `ladder serve --http` in its own process against the Slack stand-in from tests/. Two phases in
the same run:
  * idle: --people people ask questions one after another (each waits for its answer);
  * flooded: the same, while one more person sends worst-case commands in a loop from --flood
    concurrent connections: 10 KB `compare x x x …` / `path …` / questions, and the same just under the
    length limit.
Reports everyone else's time-to-answer p50/p95 in both phases and the ratio of the p95s (target:
flooded p95 <= 2x idle p95), and what the flooder got back.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from scripts.bench_slack import free_port, spawn, wait_up  # noqa: E402
from scripts.percentiles import pct  # noqa: E402
os.environ.setdefault("HF_HUB_OFFLINE", "1")

SECRET = "bench-secret"
FLOODER = "UFLOOD"


def worst_cases() -> list[str]:
    from bot.search.query import MAX_QUESTION_CHARS

    def fill(prefix: str, word: str, size: int) -> str:
        return (prefix + (word + " ") * size)[:size].strip()

    big, limit = 10_000, MAX_QUESTION_CHARS
    return [fill("compare ", "x", big), fill("path ", "x", big), fill("", "senior agent team lead", big),
            fill("compare ", "x", limit), fill("path ", "senoir", limit), fill("compare ", "agent lead", limit),
            fill("what do I need for ", "senoir agnet", limit), fill("show ", "team", limit)]


def questions() -> list[str]:
    rows = [json.loads(line) for line in (ROOT / "tests/data/questions.jsonl").read_text().splitlines() if line.strip()]
    return [r["question"] for r in rows]


class Asker:
    """Signed /ladder commands; the time from sending one to its answer on the response_url."""

    def __init__(self, url: str, slack):
        self.url, self.slack = url, slack

    def said(self, text: str, user: str, timeout: float = 600) -> str:
        """What Ladder says to a /ladder: in the ack's body (a refusal), or later on the response_url."""
        from tests import slack_requests as R

        ru = self.slack.new_response_url(channel="C1", user=user)
        status, _, body = R.post(self.url, R.slash_command(text, user_id=user, response_url=ru), secret=SECRET,
                                 timeout=30)
        assert status == 200, status
        if body.strip():   # Slack shows an ack's body to the person: plain text, or a message as JSON
            try:
                return json.loads(body).get("text") or ""
            except ValueError:
                return body
        rid = ru.rstrip("/").split("/response/", 1)[1]
        [call] = self.slack.wait_for("response_url", lambda c: c.raw_args.get("response_url_id") == rid, timeout=timeout)
        return call.args.get("text") or ""

    def ask(self, text: str, user: str) -> float:
        t = time.monotonic()
        self.said(text, user)
        return (time.monotonic() - t) * 1000


def people_ask(asker: Asker, people: int, texts: list[str]) -> list[float]:
    """Each person asks their share of ``texts`` one after another; all people at once."""
    times: list[float] = []
    lock = threading.Lock()

    def person(i: int) -> None:
        for text in texts[i::people]:
            ms = asker.ask(text, f"UPERSON{i}")
            with lock:
                times.append(ms)

    threads = [threading.Thread(target=person, args=(i,)) for i in range(people)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return times


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=4)
    parser.add_argument("--questions", type=int, default=40, help="questions per phase, shared among --people")
    parser.add_argument("--flood", type=int, default=1,
                        help="the flooder's concurrent connections (1: one person's commands in a loop; 8: some 300 "
                             "signed requests a second from one person, which Slack does not send)")
    args = parser.parse_args()

    from tests.slack_standin import SlackStandIn

    pool = questions()
    need = 2 * args.questions + 10
    texts = [f"{q} ({n})" if n else q for n, q in zip(range(need), itertools.cycle(pool))]  # never a cached repeat
    warmup, idle_texts, flood_texts = texts[:10], texts[10:10 + args.questions], texts[10 + args.questions:need]
    with SlackStandIn() as slack, tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": SECRET,
               "SLACK_API_URL": slack.api_url, "LADDER_DB": str(Path(tmp) / "bench.db"), "PYTHONPATH": str(ROOT)}
        env.pop("SLACK_APP_TOKEN", None)
        port = free_port()
        server = spawn([sys.executable, "-m", "bot", "serve", "--http", "--port", str(port)], env=env, cwd=ROOT)
        try:
            wait_up(f"http://127.0.0.1:{port}/healthz", server)
            asker = Asker(f"http://127.0.0.1:{port}/slack/events", slack)
            people_ask(asker, args.people, warmup)
            idle = people_ask(asker, args.people, idle_texts)

            stop = threading.Event()
            flood_log: list[tuple[str, float, str]] = []
            lock = threading.Lock()

            def flooder(i: int) -> None:
                for text in itertools.cycle(worst_cases()[i % 3:] + worst_cases()[:i % 3]):
                    if stop.is_set():
                        return
                    t = time.monotonic()
                    try:
                        said = asker.said(text, FLOODER)
                    except Exception:
                        if stop.is_set():   # the run is over and the server going away: not a figure
                            return
                        raise
                    with lock:
                        flood_log.append((text[:12], (time.monotonic() - t) * 1000, said))

            floods = [threading.Thread(target=flooder, args=(i,), daemon=True) for i in range(args.flood)]
            for t in floods:
                t.start()
            time.sleep(1.0)   # the flood is on before anyone else asks
            flooded = people_ask(asker, args.people, flood_texts)
            stop.set()
            for t in floods:
                t.join(120)
        finally:
            server.terminate()
            server.wait(10)

    busy = sum("still working on your earlier requests" in said for _, _, said in flood_log)
    too_long = sum("I read up to" in said for _, _, said in flood_log)
    worked = [ms for _, ms, said in flood_log if "still working" not in said and "I read up to" not in said]
    print(f"{args.people} people asking {args.questions} questions (/ladder, signed, loopback), "
          f"then again while {FLOODER} floods from {args.flood} connections")
    print(f"everyone else, idle   : answer p50 {pct(idle, 50):7.1f} ms  p95 {pct(idle, 95):7.1f} ms")
    print(f"everyone else, flooded: answer p50 {pct(flooded, 50):7.1f} ms  p95 {pct(flooded, 95):7.1f} ms")
    ratio = pct(flooded, 95) / pct(idle, 95)
    print(f"ratio flooded/idle p95: {ratio:.2f}   (target <= 2.00)")
    print(f"the flooder: {len(flood_log)} commands answered: {too_long} 'too long', {busy} 'still working', "
          f"{len(worked)} worked out" + (f" (p50 {pct(worked, 50):.1f} ms, max {max(worked):.1f} ms)" if worked else ""))
    return 0 if ratio <= 2.0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
