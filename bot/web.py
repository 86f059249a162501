"""HTTP serving: ``POST /slack/events`` (commands, interactivity, events) and ``GET /healthz``.

The same WSGI application runs under gunicorn in production (``bot.wsgi:application``) and under a
threaded ``wsgiref`` server for ``python -m bot serve --http`` and the end-to-end tests.
"""

from __future__ import annotations

import json
import logging
import threading
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from slack_bolt.adapter.wsgi import SlackRequestHandler

from bot.retrieval import index_status

log = logging.getLogger(__name__)


def wsgi_app(app, deps):
    slack = SlackRequestHandler(app)

    def application(environ, start_response):
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "GET")
        if path == "/healthz" and method in ("GET", "HEAD"):
            body = json.dumps({"status": "ok", "knowledge_version": deps.kb.version,
                               "index": index_status(deps.settings.index_dir, deps.kb)}).encode()
            start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
            return [body]
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
