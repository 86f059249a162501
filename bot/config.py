"""Settings from the environment (and ``.env``). The only module that reads ``os.environ``."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class ConfigError(Exception):
    """A setting is missing or malformed; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    knowledge_dir: Path = PROJECT_ROOT / "knowledge"
    index_dir: Path = PROJECT_ROOT / "index"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "Settings":
        env = os.environ if env is None else env
        return cls(
            knowledge_dir=Path(env.get("LADDER_KNOWLEDGE_DIR") or cls.knowledge_dir),
            index_dir=Path(env.get("LADDER_INDEX_DIR") or cls.index_dir),
        )
