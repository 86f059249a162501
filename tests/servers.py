"""Ladder's two HTTP servers as separate processes, the way an operator starts them.

    with LadderServer("gunicorn", env) as server:     # or "serve": `python -m bot serve --http`
        R.post(server.url, ...)
        server.log()                                   # everything it wrote to stderr so far

``env`` is the process's whole environment on top of PATH/PYTHONPATH; the server is up when /healthz
answers.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KINDS = ("serve", "gunicorn")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_env(*, slack_api_url: str, secret: str, index_dir: Path, db: Path, knowledge_dir: Path,
               **extra: str) -> dict[str, str]:
    return {"PATH": os.environ["PATH"], "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
            "SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": secret, "SLACK_API_URL": slack_api_url,
            "LADDER_INDEX_DIR": str(index_dir), "LADDER_DB": str(db), "LADDER_KNOWLEDGE_DIR": str(knowledge_dir),
            **extra}


class LadderServer:
    def __init__(self, kind: str, env: dict[str, str], log_path: Path, *, workers: int = 1, threads: int = 8,
                 boot_timeout: float = 120):
        self.kind, self.env, self.log_path = kind, env, log_path
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.url = f"{self.base}/slack/events"
        if kind == "gunicorn":
            self.argv = [sys.executable, "-m", "gunicorn", "bot.wsgi:application", "--worker-class", "bot.slack.web.WaitressWorker",
                         "--bind", f"127.0.0.1:{self.port}",
                         "--workers", str(workers), "--threads", str(threads), "--timeout", "60"]
        elif kind == "serve":
            self.argv = [sys.executable, "-m", "bot", "serve", "--http", "--port", str(self.port)]
        else:
            raise ValueError(kind)
        self.boot_timeout = boot_timeout
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> "LadderServer":
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(self.argv, env=self.env, cwd=ROOT, stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + self.boot_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.kind} exited with {self.proc.returncode}:\n{self.log()}")
            try:
                with urllib.request.urlopen(self.base + "/healthz", timeout=2):
                    return self
            except (urllib.error.URLError, OSError):
                time.sleep(0.2)
        self.__exit__()
        raise RuntimeError(f"{self.kind} did not answer /healthz in {self.boot_timeout} s:\n{self.log()}")

    def __exit__(self, *exc) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._log.close()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def row_counts(db: Path) -> dict[str, int]:
    """Rows per table of a SQLite file (read-only; WAL readers do not block the server)."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    try:
        tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {t: con.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}
    finally:
        con.close()


def jobs_settle(db: Path, timeout: float = 20.0) -> bool:
    """Wait until the inbox of the SQLite file ``db`` has no job pending or running (read-only, as
    :func:`row_counts`); False when ``timeout`` passes first. A database without the table yet has none."""
    deadline = time.monotonic() + timeout
    while True:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
        try:
            busy = con.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'jobs'").fetchone()[0] \
                and con.execute("SELECT count(*) FROM jobs WHERE status IN ('pending', 'running')").fetchone()[0]
        finally:
            con.close()
        if not busy:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.02)


def serve_in_thread(application, host: str = "127.0.0.1", port: int = 0):
    """Ladder's own HTTP server (``serve --http``'s) in a thread of this process, on a free port."""
    from bot.slack.web import make_http_server

    server = make_http_server(application, host, port)
    thread = threading.Thread(target=server.serve_forever, name="ladder-http", daemon=True)
    thread.start()
    return server, thread
