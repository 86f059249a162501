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
    embedder: str = "onnx-int8"     # onnx-int8 | onnx-fp32 | torch (see scripts/eval_retrieval.py)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "Settings":
        env = os.environ if env is None else env
        return cls(
            knowledge_dir=Path(env.get("LADDER_KNOWLEDGE_DIR") or cls.knowledge_dir),
            index_dir=Path(env.get("LADDER_INDEX_DIR") or cls.index_dir),
            embedder=_choice(env, "LADDER_EMBEDDER", cls.embedder, ("onnx-int8", "onnx-fp32", "torch")),
        )


def _choice(env: Mapping[str, str], name: str, default: str, allowed: tuple[str, ...]) -> str:
    value = (env.get(name) or default).strip()
    if value not in allowed:
        raise ConfigError(f"{name}={value!r} is not one of: {', '.join(allowed)}")
    return value
