"""Acknowledged means durable: every listener's ack half writes a job (:mod:`bot.storage.inbox`) and only then
acks; a runner in each worker process claims jobs and calls the listener's work half with what Bolt
would have passed it (rebuilt from the stored request body). A job a killed process left behind is
done by the next process that looks (at once on the same host); a question answered after a restart
says it is late, and an answer already in its thread (found by its marker) is not posted again."""

from __future__ import annotations

import inspect
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from slack_bolt.context.respond import Respond

from bot.slack.listeners.deliver import BUSY, CURRENT, PER_PERSON, job_marker, sorry_for, tell_sorry
from bot.storage import inbox

log = logging.getLogger(__name__)
THREADS = 8            # jobs at once per process; working out answers is one at a time anyway (ANSWERING)
RECOVER_EVERY = 2.0    # seconds between looks for jobs that a gone process left


class Jobs:
    def __init__(self, deps, client):
        self.deps, self.client = deps, client
        self.handlers: dict[str, object] = {}
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._bot_user: str | None = None

    # -- the ack half ------------------------------------------------------------------------------
    def listener(self, kind: str, work, *, accept=None):
        """A Bolt listener: write the job (unless ``accept(body)`` is False: nothing for Ladder to do), ack."""
        self.handlers[kind] = work

        def ack_half(ack, body):
            if accept is None or accept(body):
                try:
                    self.put(kind, body)
                except inbox.Full as full:   # their earlier requests are still waiting: this one is skipped
                    log.warning("inbox: %s already has %d requests waiting; told them to wait", full, PER_PERSON)
                    if body.get("command"):   # a slash command: said in the ack itself, at once and for free
                        ack(text=BUSY)
                        return
                    self._ack_and_tell(ack, body, BUSY)
                    return
                except Exception as exc:   # e.g. a full disk: nothing was stored, so say so instead of a 500
                    log.exception("inbox: cannot write the %s job", kind)
                    self._ack_and_tell(ack, body, sorry_for(exc))
                    return
            ack()
        return ack_half

    def _ack_and_tell(self, ack, body: dict, text: str) -> None:
        """Ack (Slack's 3 s), then tell the person ``text`` where they asked, off the request's thread."""
        ack()
        threading.Thread(target=tell_sorry, args=(self.client, body, _respond(body)), kwargs={"text": text},
                         name="ladder-tell", daemon=True).start()

    def put(self, kind: str, body: dict) -> int | None:
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        job = inbox.put(self.deps.store, kind, body, event_id=event_id, limit=PER_PERSON)
        self._wake.set()
        return job

    # -- the runner ----------------------------------------------------------------------------------
    def start(self) -> threading.Thread:
        self._thread = threading.Thread(target=self._loop, name="ladder-jobs", daemon=True)
        self._thread.start()
        return self._thread

    def stop(self, timeout: float = 10.0) -> None:
        """Claim no more jobs; wait (up to ``timeout``) for the running ones to finish. Jobs still waiting stay
        in the inbox for the next process. (A server process just exits: its runner is a daemon thread.)"""
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _loop(self) -> None:
        slots = threading.BoundedSemaphore(THREADS)
        pool = ThreadPoolExecutor(THREADS, thread_name_prefix="ladder-job")
        try:
            self._claim_and_run(slots, pool)
        finally:
            pool.shutdown(wait=True)

    def _claim_and_run(self, slots, pool: ThreadPoolExecutor) -> None:
        recovered_at = 0.0
        while not self._stopping.is_set():
            slots.acquire()
            if self._stopping.is_set():
                break
            self._wake.clear()
            job = None
            try:
                if time.monotonic() - recovered_at > RECOVER_EVERY:
                    if not recovered_at or int(time.monotonic() / 600) != int(recovered_at / 600):
                        inbox.prune(self.deps.store)
                    recovered_at = time.monotonic()
                    inbox.recover(self.deps.store)
                job = inbox.claim(self.deps.store)
            except Exception:
                log.exception("inbox: cannot claim a job; retrying")
            if job is None:
                slots.release()
                self._wake.wait(RECOVER_EVERY)
                continue
            pool.submit(self._run, job, slots)

    def _run(self, job: inbox.Job, slots) -> None:
        try:
            work = self.handlers.get(job.kind)
            if work is None or job.attempts > inbox.MAX_ATTEMPTS:
                log.error("inbox: job %s (%s) given up after %s tries", job.id, job.kind, job.attempts - 1)
                tell_sorry(self.client, job.body, _respond(job.body))
                inbox.finish(self.deps.store, job.id, "failed", "too many tries" if work else "no handler")
                return
            if job.attempts > 1 and self._already_answered(job):
                log.info("inbox: job %s was answered before its worker stopped", job.id)
            else:
                CURRENT.job = job
                work(**self._arguments(work, job))
            inbox.finish(self.deps.store, job.id)
        except Exception:
            log.exception("inbox: job %s failed", job.id)
            inbox.finish(self.deps.store, job.id, "failed", "exception")
        finally:
            CURRENT.job = None
            slots.release()
            self._wake.set()   # the person's next request (held while this one ran) is claimable now

    def _arguments(self, work, job: inbox.Job) -> dict:
        body = job.body
        offer = {"body": body, "client": self.client, "respond": _respond(body), "command": body, "job": job,
                 "action": (body.get("actions") or [{}])[0], "event": body.get("event") or {},
                 "view": body.get("view") or {}}
        wanted = inspect.signature(work).parameters
        if "context" in wanted:
            offer["context"] = {"bot_user_id": self.bot_user_id()}
        return {name: offer[name] for name in wanted if name in offer}

    def bot_user_id(self) -> str | None:
        if self._bot_user is None:
            try:
                self._bot_user = self.client.auth_test()["user_id"]
            except Exception:
                log.exception("auth.test failed; cannot tell Ladder's own messages apart")
        return self._bot_user

    def _already_answered(self, job: inbox.Job) -> bool:
        """A question's answer carries the job's marker: look for it in the thread before answering again."""
        event = job.body.get("event") or {}
        if not (event.get("channel") and event.get("ts")):
            return False
        try:
            replies = self.client.conversations_replies(channel=event["channel"], ts=event.get("thread_ts") or event["ts"])
        except Exception:
            log.exception("cannot look for job %s's answer; answering", job.id)
            return False
        return any(b.get("block_id") == job_marker(job.id)
                   for m in replies.get("messages", []) for b in m.get("blocks") or [])


def _respond(body: dict):
    return Respond(response_url=body["response_url"]) if body.get("response_url") else None
