"""HTTP serving: ``POST /slack/events`` (commands, interactivity, events) and ``GET /healthz``.

The same WSGI application runs under gunicorn in production (``bot.wsgi:application``) and under a
threaded ``wsgiref`` server for ``python -m bot serve --http`` and the end-to-end tests.

Every POST is verified here, before Bolt sees it: a request whose signature cannot be verified for any
reason gets 401 and nothing else runs (no listener, no error handler, no database, no Slack call). A
signed request that is not a payload Ladder can read (:mod:`bot.inbound`) gets 400, or 200 and a log
line for an event (Slack retries an event that got anything else).
"""

from __future__ import annotations

import json
import logging
import threading
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from slack_bolt.adapter.wsgi.http_response import WsgiHttpResponse
from slack_bolt.request import BoltRequest

from bot import inbound
from bot.retrieval import index_status
from bot.signature import SlackSignature

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
        response = app.dispatch(BoltRequest(body=raw.decode("utf-8"), query=environ.get("QUERY_STRING", ""),
                                            headers=headers))
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
            health = {"status": "ok" if problem is None else "unavailable", "knowledge_version": deps.kb.version,
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


class ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128  # socketserver's default backlog of 5 resets bursts of slash commands


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - wsgiref's signature
        log.debug("%s - %s", self.address_string(), format % args)


def make_http_server(application, host: str = "127.0.0.1", port: int = 3000) -> ThreadingWSGIServer:
    return make_server(host, port, application, server_class=ThreadingWSGIServer, handler_class=QuietHandler)


def serve_in_thread(application, host: str = "127.0.0.1", port: int = 0) -> tuple[ThreadingWSGIServer, threading.Thread]:
    server = make_http_server(application, host, port)
    thread = threading.Thread(target=server.serve_forever, name="ladder-http", daemon=True)
    thread.start()
    return server, thread
