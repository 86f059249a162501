"""Settings: every variable read, and one clear line for a missing or malformed one."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.config import ConfigError, Settings


def test_defaults_need_no_environment():
    s = Settings.from_env({})
    assert s.slack_api_url == "https://slack.com/api/" and s.port == 3000 and not s.has_slack
    assert s.embedder == "onnx-int8" and s.admins == () and s.model_threads == 1


def test_every_setting_is_read():
    s = Settings.from_env({
        "SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "sec", "SLACK_APP_TOKEN": "xapp-1",
        "SLACK_API_URL": "http://127.0.0.1:9999/api", "LADDER_DB": "/tmp/x.db", "LADDER_ADMINS": "U1ABC, W2DEF",
        "LADDER_ANNOUNCE_CHANNEL": "C0123ABC", "PORT": "8080", "LADDER_MODEL_THREADS": "2",
    })
    assert s.slack_api_url == "http://127.0.0.1:9999/api/"  # slack_sdk joins method names onto it
    assert s.db_path == Path("/tmp/x.db") and s.admins == ("U1ABC", "W2DEF") and s.port == 8080
    assert s.announce_channel == "C0123ABC" and s.has_slack and s.model_threads == 2


@pytest.mark.parametrize("env, message", [
    ({"SLACK_BOT_TOKEN": "xapp-wrong"}, "SLACK_BOT_TOKEN must start with 'xoxb-'"),
    ({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xoxb-wrong"}, "SLACK_APP_TOKEN must start with 'xapp-'"),
    ({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_API_URL": "ftp://x"}, "SLACK_API_URL='ftp://x' is not an http(s) URL"),
])
def test_malformed_slack_settings_stop_only_what_needs_slack(env, message):
    settings = Settings.from_env(env)    # `ladder levels`, `ask`, the console: no Slack, no stop
    for require in (settings.require_slack, settings.require_http, settings.require_socket_mode):
        with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
            require()


def test_ladder_levels_runs_with_a_malformed_token(capsys, monkeypatch):
    from bot.cli import main

    monkeypatch.setenv("SLACK_BOT_TOKEN", "not-a-token")
    assert main(["levels", "--track", "frontend"]) == 0
    assert "Frontend Development" in capsys.readouterr().out
    assert main(["outbox", "--drain"]) == 1
    assert "SLACK_BOT_TOKEN must start with 'xoxb-'" in capsys.readouterr().err


@pytest.mark.parametrize("env, message", [
    ({"PORT": "http"}, "PORT='http' is not a port number"),
    ({"PORT": "70000"}, "PORT='70000' is not a port number"),
    ({"PORT": "²"}, "PORT='²' is not a port number"),   # isdigit() says yes, int() raises
    ({"LADDER_ADMINS": "bob"}, "LADDER_ADMINS: 'bob' is not a Slack user id"),
    ({"LADDER_MODEL_THREADS": "0"}, "LADDER_MODEL_THREADS='0' is not a number of threads (1-64)"),
    ({"LADDER_MODEL_THREADS": "two"}, "LADDER_MODEL_THREADS='two' is not a number of threads"),
    ({"LADDER_ANNOUNCE_CHANNEL": "general channel!"}, "LADDER_ANNOUNCE_CHANNEL='general channel!' is not a channel"),
])
def test_malformed_settings_name_the_variable(env, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Settings.from_env(env)


def test_serving_requires_its_tokens():
    with pytest.raises(ConfigError, match="SLACK_SIGNING_SECRET is not set"):
        Settings.from_env({"SLACK_BOT_TOKEN": "xoxb-1"}).require_http()
    with pytest.raises(ConfigError, match="SLACK_APP_TOKEN is not set"):
        Settings.from_env({"SLACK_BOT_TOKEN": "xoxb-1"}).require_socket_mode()
    with pytest.raises(ConfigError, match="SLACK_BOT_TOKEN is not set"):
        Settings.from_env({}).require_http()


def test_dotenv_is_read_and_environment_wins(tmp_path, monkeypatch):
    (tmp_path / ".env").write_text("PORT=4000\nLADDER_DB=/tmp/from-dotenv.db\n")
    monkeypatch.setenv("LADDER_DB", "/tmp/from-env.db")
    s = Settings.from_env(dotenv=tmp_path / ".env")
    assert s.port == 4000 and s.db_path == Path("/tmp/from-env.db")


def test_serve_without_tokens_is_one_clear_line(tmp_path):
    import os
    import subprocess
    import sys

    from tests.conftest import ROOT

    env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
    proc = subprocess.run([sys.executable, "-m", "bot", "serve", "--http"], capture_output=True, text=True,
                          env={**env, "PYTHONPATH": str(ROOT)}, cwd=tmp_path, timeout=60)
    assert proc.returncode == 1
    assert proc.stderr.strip() == "error: SLACK_BOT_TOKEN is not set (the bot token, xoxb-…)"
