"""gunicorn entry point: ``gunicorn bot.wsgi:application``.

Built on first import by gunicorn's worker (not by anything else in the package).
"""

from bot.app import create_app
from bot.config import Settings
from bot.runtime import make_deps, setup_logging, start_outbox_worker
from bot.web import wsgi_app

setup_logging()
_settings = Settings.from_env()
_deps = make_deps(_settings)
_app = create_app(_settings, _deps)
start_outbox_worker(_deps, _app.client)
application = wsgi_app(_app, _deps)
