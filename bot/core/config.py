"""Settings from the environment (and ``.env``). The only module that reads ``os.environ``.

A missing or malformed setting stops start-up with one line naming the variable.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

PROJECT_ROOT = Path(__file__).resolve().parents[2]   # bot/core/config.py -> the project
SLACK_API_URL = "https://slack.com/api/"
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")


class ConfigError(Exception):
    """A setting is missing or malformed; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    knowledge_dir: Path = PROJECT_ROOT / "knowledge"
    index_dir: Path = PROJECT_ROOT / "index"
    embedder: str = "onnx-int8"     # onnx-int8 | onnx-fp32 | torch (see scripts/eval_retrieval.py)
    model_threads: int = 1          # the model's threads for a question, ONNX or torch (a build uses every core)
    db_path: Path = PROJECT_ROOT / "ladder.db"
    slack_bot_token: str | None = None
    slack_signing_secret: str | None = None
    slack_app_token: str | None = None
    slack_api_url: str = SLACK_API_URL
    admins: tuple[str, ...] = ()
    announce_channel: str | None = None
    port: int = 3000
    remind_days: int = 7          # an unfinished gap check is nudged once after this many days (0: never)
    slack_problems: tuple[str, ...] = ()   # malformed Slack settings, raised by require_slack()
    extra: dict = field(default_factory=dict, compare=False)

    @property
    def versions_dir(self) -> Path:
        """Where HR's knowledge versions are materialised as files: beside the index builds."""
        return Path(self.index_dir) / "knowledge"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, dotenv: Path | None = None) -> "Settings":
        if env is None:
            env = {**_dotenv(dotenv or Path.cwd() / ".env"), **os.environ}
        get = lambda name: (env.get(name) or "").strip() or None  # noqa: E731
        # Slack's settings are checked when something needs Slack (serve, outbox --drain): a malformed
        # token must not stop `ladder levels`, `ask` or the console, which never talk to Slack
        slack_problems = []
        api_url = get("SLACK_API_URL") or SLACK_API_URL
        if not re.match(r"^https?://[^/\s]+(/\S*)?$", api_url):
            slack_problems.append(f"SLACK_API_URL={api_url!r} is not an http(s) URL")
        if not api_url.endswith("/"):
            api_url += "/"
        admins = tuple(a.strip() for a in (get("LADDER_ADMINS") or "").split(",") if a.strip())
        for admin in admins:
            if not _USER_ID.match(admin):
                raise ConfigError(f"LADDER_ADMINS: {admin!r} is not a Slack user id (like U012ABCDEF)")
        return cls(
            knowledge_dir=Path(get("LADDER_KNOWLEDGE_DIR") or cls.knowledge_dir),
            index_dir=Path(get("LADDER_INDEX_DIR") or cls.index_dir),
            embedder=_choice(get("LADDER_EMBEDDER"), "LADDER_EMBEDDER", cls.embedder, ("onnx-int8", "onnx-fp32", "torch")),
            model_threads=_threads(get("LADDER_MODEL_THREADS")),
            db_path=Path(get("LADDER_DB") or cls.db_path),
            slack_bot_token=_token(get("SLACK_BOT_TOKEN"), "SLACK_BOT_TOKEN", "xoxb-", slack_problems),
            slack_signing_secret=get("SLACK_SIGNING_SECRET"),
            slack_app_token=_token(get("SLACK_APP_TOKEN"), "SLACK_APP_TOKEN", "xapp-", slack_problems),
            slack_problems=tuple(slack_problems),
            slack_api_url=api_url,
            admins=admins,
            announce_channel=_channel(get("LADDER_ANNOUNCE_CHANNEL")),
            port=_port(get("PORT")),
            remind_days=_days(get("LADDER_REMIND_DAYS")),
        )

    @property
    def has_slack(self) -> bool:
        return bool(self.slack_bot_token)

    def require_slack(self) -> None:
        """What every Slack call needs: a well-formed bot token and API URL."""
        if self.slack_problems:
            raise ConfigError(self.slack_problems[0])
        if not self.slack_bot_token:
            raise ConfigError("SLACK_BOT_TOKEN is not set (the bot token, xoxb-…)")

    def require_http(self) -> None:
        """What serving Slack over HTTP needs."""
        self.require_slack()
        if not self.slack_signing_secret:
            raise ConfigError("SLACK_SIGNING_SECRET is not set (Basic Information → Signing Secret)")

    def require_socket_mode(self) -> None:
        self.require_slack()
        if not self.slack_app_token:
            raise ConfigError("SLACK_APP_TOKEN is not set (an app-level token, xapp-…, with connections:write)")


def _dotenv(path: Path) -> dict[str, str]:
    if not path.is_file():
        return {}
    from dotenv import dotenv_values

    return {k: v for k, v in dotenv_values(path).items() if v is not None}


def _choice(value: str | None, name: str, default: str, allowed: tuple[str, ...]) -> str:
    value = value or default
    if value not in allowed:
        raise ConfigError(f"{name}={value!r} is not one of: {', '.join(allowed)}")
    return value


def _token(value: str | None, name: str, prefix: str, problems: list[str]) -> str | None:
    if value is not None and not value.startswith(prefix):
        problems.append(f"{name} must start with {prefix!r} (got {value[:5]!r}…)")
    return value


def _channel(value: str | None) -> str | None:
    if value is not None and not re.match(r"^[CGD][A-Z0-9]{2,}$|^#?[a-z0-9._-]{1,80}$", value):
        raise ConfigError(f"LADDER_ANNOUNCE_CHANNEL={value!r} is not a channel id or name")
    return value


def _port(value: str | None) -> int:
    if value is None:
        return 3000
    if not (value.isascii() and value.isdigit()) or not 0 < int(value) < 65536:   # "²".isdigit() too
        raise ConfigError(f"PORT={value!r} is not a port number (1-65535)")
    return int(value)


def _threads(value: str | None) -> int:
    if value is None:
        return Settings.model_threads
    if not (value.isascii() and value.isdigit()) or not 0 < int(value) <= 64:
        raise ConfigError(f"LADDER_MODEL_THREADS={value!r} is not a number of threads (1-64)")
    return int(value)


def _days(value: str | None) -> int:
    if value is None:
        return 7
    if not (value.isascii() and value.isdigit()) or int(value) > 365:
        raise ConfigError(f"LADDER_REMIND_DAYS={value!r} is not a number of days (0-365; 0 turns nudges off)")
    return int(value)
