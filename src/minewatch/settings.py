"""The one settings object (environment prefix ``MINEWATCH_``).

Read once per process through :func:`get_settings`; every other module receives what it needs as
arguments, so nothing else reads the environment.
"""

from __future__ import annotations

import os
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Self

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SECRET_KEY = "minewatch-development-key-change-me"


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class Locale(StrEnum):
    ZH_CN = "zh-CN"
    EN = "en"


def _default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "minewatch"


class Settings(BaseSettings):
    """Deployment settings; each field can be set as ``MINEWATCH_<FIELD>``."""

    model_config = SettingsConfigDict(env_prefix="MINEWATCH_", frozen=True, extra="ignore")

    environment: Environment = Environment.DEVELOPMENT
    data_dir: Path = Field(default_factory=_default_data_dir)
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; default: a SQLite file minewatch.db in data_dir.",
    )
    secret_key: SecretStr = SecretStr(DEFAULT_SECRET_KEY)
    locale: Locale = Locale.ZH_CN
    db_busy_timeout_s: float = Field(
        default=5.0, ge=0, description="Wait for a locked database [s]"
    )

    @field_validator("locale", mode="before")
    @classmethod
    def _normalise_locale(cls, value: object) -> object:
        if isinstance(value, str):
            key = value.strip().replace("_", "-").lower()
            aliases = {
                "zh": "zh-CN",
                "zh-cn": "zh-CN",
                "zh-hans": "zh-CN",
                "en": "en",
                "en-us": "en",
            }
            return aliases.get(key, value)
        return value

    @model_validator(mode="after")
    def _refuse_default_secret(self) -> Self:
        if (
            self.environment is not Environment.DEVELOPMENT
            and self.secret_key.get_secret_value() == DEFAULT_SECRET_KEY
        ):
            raise ValueError(
                f"MINEWATCH_SECRET_KEY is left at its development default while "
                f"MINEWATCH_ENVIRONMENT={self.environment.value}; set a secret of your own"
            )
        if len(self.secret_key.get_secret_value()) < 16:
            raise ValueError("MINEWATCH_SECRET_KEY must be at least 16 characters long")
        return self

    @property
    def resolved_database_url(self) -> str:
        """The database URL to use, with the default SQLite file filled in."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'minewatch.db').as_posix()}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read from the environment on first use."""
    return Settings()
