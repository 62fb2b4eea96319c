"""The one settings object."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from minewatch.settings import DEFAULT_SECRET_KEY, Environment, Locale, Settings


def test_defaults_put_sqlite_in_the_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MINEWATCH_DATA_DIR", str(tmp_path))
    settings = Settings()
    assert settings.environment is Environment.DEVELOPMENT
    assert settings.locale is Locale.ZH_CN
    assert settings.resolved_database_url == f"sqlite:///{tmp_path.as_posix()}/minewatch.db"


def test_environment_variables_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MINEWATCH_DATABASE_URL", "postgresql://u@h/db")
    monkeypatch.setenv("MINEWATCH_LOCALE", "en")
    settings = Settings()
    assert settings.resolved_database_url == "postgresql://u@h/db"
    assert settings.locale is Locale.EN


@pytest.mark.parametrize("given", ["zh", "zh_CN", "ZH-cn"])
def test_locale_spellings(given: str) -> None:
    assert Settings(locale=given).locale is Locale.ZH_CN  # type: ignore[arg-type]


def test_default_secret_is_refused_outside_development() -> None:
    with pytest.raises(ValidationError, match="MINEWATCH_SECRET_KEY"):
        Settings(environment=Environment.PRODUCTION)
    with pytest.raises(ValidationError, match="MINEWATCH_SECRET_KEY"):
        Settings(environment=Environment.TEST, secret_key=DEFAULT_SECRET_KEY)  # type: ignore[arg-type]
    ok = Settings(environment=Environment.PRODUCTION, secret_key="a-real-secret-of-some-length")  # type: ignore[arg-type]
    assert ok.secret_key.get_secret_value() == "a-real-secret-of-some-length"


def test_short_secret_and_unknown_locale_are_refused() -> None:
    with pytest.raises(ValidationError, match="16 characters"):
        Settings(secret_key="short")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        Settings(locale="fr")  # type: ignore[arg-type]
