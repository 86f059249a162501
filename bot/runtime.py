"""Start-up: settings -> knowledge, index, embedder, store -> Deps. Shared by every entry point."""

from __future__ import annotations

import logging
import time

from bot.core.config import Settings
from bot.chat.handlers import Deps
from bot.storage.store import Store


def make_deps(settings: Settings, progress=None) -> Deps:
    """Start on the live knowledge: HR's newest stored version, or the committed files."""
    from bot.service import live_knowledge, open_advisor

    from bot.storage.outbox import release

    store = Store(settings.db_path)
    kb = live_knowledge(settings, store)
    deps = Deps(settings=settings, advisor=open_advisor(settings, progress=progress, kb=kb), store=store)
    # an edit's announcement is held until its version is live: if the process stopped between storing
    # the version and swapping it in, the version is live now, so its announcement may go out
    release(store, knowledge_version=kb.version)
    return deps


def setup_logging(level: int = logging.INFO) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


REMINDERS_EVERY = 600.0   # seconds between looks for reminders that are due


def slack_tz(client):
    """A person's time zone from Slack's users.info (None when Slack doesn't say)."""
    def lookup(user_id: str) -> str | None:
        return (client.users_info(user=user_id).get("user") or {}).get("tz")
    return lookup


def start_outbox_worker(deps: Deps, client, interval: float = 5.0):
    """A daemon thread that drains the outbox now and then, and at once when kicked."""
    import threading

    from bot.storage.outbox import drain
    from bot.slack.slack_sender import SlackSender

    wake = threading.Event()
    sender = SlackSender(client)   # the same workspace without slack_sdk's retry handlers (no blind re-posts)
    log = logging.getLogger("bot.storage.outbox")

    tz_of = slack_tz(client)
    last_reminders = [0.0]

    def loop() -> None:
        import time

        from bot.chat.reminders import schedule

        while True:
            try:
                if time.monotonic() - last_reminders[0] > REMINDERS_EVERY:   # queue the reminders now due
                    last_reminders[0] = time.monotonic()
                    if schedule(deps.store, deps.settings.remind_days, tz_of):
                        log.info("reminders queued")
                result = drain(deps.store, sender, until_empty=True)
                if result.sent or result.failed or result.recovered:
                    log.info("outbox: %s", result)
            except Exception:
                log.exception("outbox worker failed; retrying in %s s", interval)
            wake.wait(interval)
            wake.clear()

    thread = threading.Thread(target=loop, name="ladder-outbox", daemon=True)
    thread.start()
    deps.kick_outbox = wake.set
    return thread


def start_version_follower(deps: Deps, interval: float = 0.25):
    """A daemon thread that keeps this process on the newest knowledge version (another worker
    process may have saved an edit): see :func:`bot.service.follow_newest`."""
    import threading

    from bot.service import follow_newest

    log = logging.getLogger("bot.service")

    def loop() -> None:
        while True:
            try:
                follow_newest(deps)
            except Exception:
                log.exception("could not follow the newest knowledge version; retrying")
            time.sleep(interval)

    thread = threading.Thread(target=loop, name="ladder-version", daemon=True)
    thread.start()
    return thread
