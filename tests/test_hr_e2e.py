"""Team-lead and HR features over signed HTTP against the Slack stand-in: refusals, the edit form."""

from __future__ import annotations

import json
import time

import pytest

from bot.core.config import Settings
from bot.slack.app import create_app
from bot.slack.web import wsgi_app
from bot.wiring import make_deps
from tests import slack_requests as R
from tests.conftest import KNOWLEDGE
from tests.servers import serve_in_thread
from tests.slack_standin import SlackStandIn

SECRET = "hr-e2e"
ADMIN, HR, LEAD, AGENT = "UADMIN1", "UHR1", "ULEAD1", "UAGENT1"


@pytest.fixture
def live(index_copy, tmp_path):
    index_dir = index_copy
    with SlackStandIn() as slack:
        settings = Settings.from_env({"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": SECRET,
                                      "SLACK_API_URL": slack.api_url, "LADDER_INDEX_DIR": str(index_dir),
                                      "LADDER_DB": str(tmp_path / "l.db"), "LADDER_ADMINS": ADMIN,
                                      "LADDER_KNOWLEDGE_DIR": str(KNOWLEDGE)})
        deps = make_deps(settings)
        deps.store.set_role(HR, "hr", ADMIN)
        deps.store.set_role(LEAD, "lead", ADMIN)
        app = create_app(settings, deps)
        server, _ = serve_in_thread(wsgi_app(app, deps))
        try:
            yield slack, f"http://127.0.0.1:{server.server_port}/slack/events", deps
        finally:
            server.shutdown()
            app.jobs.stop()


def slash(slack, url, user, text):
    ru = slack.new_response_url()
    before, opened = len(slack.responses), len(slack.calls("views.open"))  # counted before this request
    status, _, _ = R.post(url, R.slash_command(text, user_id=user, response_url=ru), secret=SECRET)
    assert status == 200
    deadline = time.time() + 10
    while time.time() < deadline and len(slack.responses) == before and len(slack.calls("views.open")) == opened:
        time.sleep(0.02)
    return slack.responses[-1] if len(slack.responses) > before else None


def said(resp) -> str:
    payload = resp["body"] if isinstance(resp, dict) and "body" in resp else getattr(resp, "body", resp)
    if isinstance(payload, (bytes, str)):
        payload = json.loads(payload)
    return json.dumps(payload)


@pytest.mark.parametrize("user, text, allowed", [
    (AGENT, f"role <@{AGENT}|a> admin", False), (AGENT, "edit senior agent", False),
    (AGENT, "announce hello", False), (AGENT, "stats", False), (AGENT, f"assign <@{AGENT}|a> L3", False),
    (AGENT, "team", False), (LEAD, "stats", False), (LEAD, "edit L3", False), (LEAD, "announce hi", False),
    (HR, "stats", True), (LEAD, "team", True),
])
def test_role_matrix_over_http(live, user, text, allowed):
    slack, url, deps = live
    resp = slash(slack, url, user, text)
    log = deps.store.audit_log()
    assert log and log[0]["actor"] == user and log[0]["outcome"] == ("ok" if allowed else "refused")
    if not allowed:
        assert "Sorry" in said(resp) and '"response_type": "ephemeral"' in said(resp)
        assert not slack.calls("views.open") and not slack.calls("chat.postMessage")


def test_invalid_edit_is_rejected_in_the_modal_while_the_old_version_answers(live):
    slack, url, deps = live
    slash(slack, url, HR, "edit senior agent")
    [opened] = slack.wait_for("views.open", timeout=10)
    view = opened.args["view"]
    assert view["callback_id"] == "ladder_edit"
    values = {b["block_id"]: {b["element"]["action_id"]: b["element"].get("initial_value") or ""}
              for b in view["blocks"] if b["type"] == "input"}
    values["edit_skills"]["skills"] = "Mentorship but no colon"
    values["edit_note"]["note"] = "trying"
    before = deps.kb.version
    status, _, body = R.post(url, R.view_submission("ladder_edit", values, user_id=HR,
                                                    private_metadata=view["private_metadata"]), secret=SECRET)
    assert status == 200
    ack = json.loads(body)
    assert ack["response_action"] == "errors" and "not 'Name: description'" in ack["errors"]["edit_skills"]
    resp = slash(slack, url, AGENT, "what do I need for senior agent?")
    assert f"knowledge {before}" in said(resp) and deps.kb.version == before
    with deps.store.db() as db:
        assert db["knowledge_versions"].count == 0
