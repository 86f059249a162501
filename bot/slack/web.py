"""HTTP serving: ``POST /slack/events`` (commands, interactivity, events) and ``GET /healthz``.

The same WSGI application runs under gunicorn in production (``bot.wsgi:application`` with the worker
class :class:`WaitressWorker`, several processes) and under one waitress server (:class:`HttpServer`)
for ``python -m bot serve --http`` and the end-to-end tests.

Every POST is verified here, before Bolt sees it: a request whose signature cannot be verified for any
reason gets 401 and nothing else runs (no listener, no error handler, no database, no Slack call). A
signed request that is not a payload Ladder can read (:mod:`bot.slack.inbound`) gets 400, or 200 and a log
line for an event (Slack retries an event that got anything else).
"""

from __future__ import annotations

import json
import logging
import os
import threading
from urllib.parse import parse_qsl

from gunicorn.workers.base import Worker
from slack_bolt.adapter.wsgi.http_response import WsgiHttpResponse
from slack_bolt.context import BoltContext
from slack_bolt.request import BoltRequest
from slack_bolt.request.internals import build_context

from bot.search.retrieval import index_status
from bot.slack import inbound
from bot.slack.signature import SlackSignature

log = logging.getLogger(__name__)


def _reply(start_response, status: int, body: dict) -> list[bytes]:
    response = WsgiHttpResponse(status, {"content-type": ["application/json"]}, json.dumps(body))
    start_response(response.status, response.get_headers())
    return list(response.get_body())


def _headers(environ) -> dict[str, str]:
    """The request's headers, lower-case. Bolt's internal ``x-slack-bolt-*`` headers (which make it run
    a lazy listener alone) are Bolt's to set, never a sender's."""
    out = {}
    for key, value in environ.items():
        if key in ("CONTENT_TYPE", "CONTENT_LENGTH") or key.startswith("HTTP_"):
            name = key.removeprefix("HTTP_").lower().replace("_", "-")
            if not name.startswith("x-slack-bolt-"):
                out[name] = value
    return out


def bolt_request(body: str, query: str, headers: dict) -> BoltRequest:
    """Bolt's request for a verified body. slack_bolt's parse_body reads any form body that contains the
    word "payload" as an interaction and, finding no ``payload`` field, gives ``{}``: a ``/ladder`` whose
    text (or user name) says "payload" would match no listener. Such a form is read as the fields it has."""
    request = BoltRequest(body=body, query=query, headers=headers)
    if not request.body and "payload" in body and not body.lstrip().startswith("{"):
        form = dict(parse_qsl(body, keep_blank_values=True))
        if "payload" not in form:
            request.body = form
            request.context = build_context(BoltContext(), form)
    return request


def slack_events(app, signing_secret: str):
    """The WSGI handler of ``POST /slack/events``: verify, check the shape, then hand it to Bolt."""
    signature = SlackSignature(signing_secret)

    def handle(environ, start_response):
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return _reply(start_response, 400, {"error": "bad Content-Length"})
        if length < 0 or length > inbound.MAX_BODY:
            return _reply(start_response, 413, {"error": "request too large"})
        raw = environ["wsgi.input"].read(length) if length else b""
        headers = _headers(environ)
        if not signature.verified(raw, headers):
            log.warning("refused a request to /slack/events from %s: its signature cannot be verified",
                        environ.get("REMOTE_ADDR", "?"))
            return _reply(start_response, 401, {"error": "invalid signature"})
        try:
            inbound.check(raw, headers.get("content-type"))
        except inbound.Malformed as exc:
            log.warning("ignored a signed request to /slack/events: %s", exc)
            return _reply(start_response, 200 if exc.event else 400, {"error": f"malformed request: {exc}"})
        response = app.dispatch(bolt_request(raw.decode("utf-8"), environ.get("QUERY_STRING", ""), headers))
        http = WsgiHttpResponse(status=response.status, headers=response.headers, body=response.body)
        start_response(http.status, http.get_headers())
        return list(http.get_body())

    return handle


def wsgi_app(app, deps):
    slack = slack_events(app, deps.settings.slack_signing_secret)

    def application(environ, start_response):
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "GET")
        if path == "/healthz" and method in ("GET", "HEAD"):
            problem = deps.store.health()     # a real write: a full disk or a read-only file shows here
            health = {"status": "ok" if problem is None else "unavailable", "knowledge_version": deps.kb.version, "worker": os.getpid(),
                      "index": index_status(deps.settings.index_dir, deps.kb)}
            if problem is not None:
                health["reason"] = f"Ladder can't save: {problem}"
            return _reply(start_response, 200 if problem is None else 503, health)
        if path == "/slack/events" and method == "POST":
            return slack(environ, start_response)
        body = b'{"error": "not found"}'
        start_response("404 Not Found", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]

    return application


# waitress reads every request whole (headers and body, in its event loop) before one of its threads
# runs the app, so a slow or idle client costs a socket, never a thread: the threads only run ack
# halves. A connection that sends nothing for CHANNEL_TIMEOUT seconds is closed.
SERVER_OPTIONS = {
    "threads": 8,                        # app threads: verify, write, ack (answers run elsewhere)
    "channel_timeout": 30,               # seconds of silence before a connection is closed
    "cleanup_interval": 5,               # how often that is checked
    "connection_limit": 1000,            # open connections per process (slow ones included)
    "max_request_body_size": 1 << 20,    # Slack's payloads are a few KB
    "backlog": 1024,
    "asyncore_use_poll": True,           # select() stops working past 1,024 file descriptors
    "ident": "ladder",
}


class HttpServer:
    """A waitress server with the options above, on (host, port) or on sockets gunicorn bound."""

    def __init__(self, application, host: str = "127.0.0.1", port: int = 3000, *, sockets=None, threads: int | None = None):
        from waitress.server import create_server

        self._map: dict = {}
        where = {"sockets": sockets} if sockets else {"host": host, "port": port}
        options = {**SERVER_OPTIONS, **({"threads": threads} if threads else {})}
        self.server = create_server(application, map=self._map, **where, **options)
        self._stop, self._stopped = threading.Event(), threading.Event()

    @property
    def server_address(self) -> tuple[str, int]:
        listen = getattr(self.server, "effective_listen", None)
        return tuple(listen[0]) if listen else (self.server.effective_host, self.server.effective_port)

    @property
    def server_port(self) -> int:
        return self.server_address[1]

    def serve_forever(self, tick=None) -> None:
        """Run the event loop until :meth:`shutdown` (or ``tick()`` returns False), then close."""
        from waitress import wasyncore

        try:
            while not self._stop.is_set():
                wasyncore.loop(timeout=0.5, map=self._map, use_poll=True, count=1)
                if tick is not None and tick() is False:
                    break
        finally:
            self.server.task_dispatcher.shutdown(cancel_pending=False, timeout=5)
            wasyncore.close_all(self._map)
            self._stopped.set()

    def shutdown(self) -> None:
        self._stop.set()
        self._stopped.wait(10)

    def server_close(self) -> None:
        """socketserver's name: the sockets are closed by :meth:`serve_forever` on its way out."""
        self.shutdown()


def make_http_server(application, host: str = "127.0.0.1", port: int = 3000) -> HttpServer:
    return HttpServer(application, host, port)


class WaitressWorker(Worker):
    """gunicorn worker class ``bot.slack.web.WaitressWorker``: gunicorn forks, binds, restarts and stops the
    worker processes; each serves with waitress (:class:`HttpServer`), which buffers requests, where
    gunicorn's gthread worker reads a request in its pool threads (slow clients would hold them)."""

    def run(self) -> None:
        server = HttpServer(self.wsgi, sockets=[s.sock for s in self.sockets], threads=self.cfg.threads)

        def tick() -> bool:
            self.notify()   # the arbiter's liveness check (--timeout)
            return self.alive and self.ppid == os.getppid()

        server.serve_forever(tick=tick)
