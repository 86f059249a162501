"""gunicorn entry point: ``gunicorn bot.wsgi:application``.

Built on first import by gunicorn's worker (not by anything else in the package). A bad setting
stops the worker with one line naming it; exit code 3 tells gunicorn's arbiter the worker cannot
boot, so it stops instead of respawning it forever.
"""

import sys

from bot.core.config import ConfigError, Settings
from bot.slack.app import create_app
from bot.slack.web import wsgi_app
from bot.storage.store import StoreError
from bot.wiring import make_deps, setup_logging, start_outbox_worker, start_version_follower

WORKER_BOOT_ERROR = 3  # gunicorn.arbiter.Arbiter.WORKER_BOOT_ERROR

setup_logging()
try:
    _settings = Settings.from_env()
    _settings.require_http()
except ConfigError as exc:
    print(f"error: {exc}", file=sys.stderr)
    sys.exit(WORKER_BOOT_ERROR)
try:
    _deps = make_deps(_settings)
except StoreError as exc:
    print(f"error: {exc.line()}", file=sys.stderr)
    sys.exit(WORKER_BOOT_ERROR)
_app = create_app(_settings, _deps)
start_outbox_worker(_deps, _app.client)
start_version_follower(_deps)
application = wsgi_app(_app, _deps)
