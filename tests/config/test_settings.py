"""Settings: read once from the environment or .env; from a dict in tests; secrets hidden."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from config import Settings, load_settings


def test_from_mapping_ignores_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://elsewhere/db")
    monkeypatch.setenv("JOURNEYBOT_CHROMA_HOST", "chroma.internal")
    settings = Settings.from_mapping({"data_dir": tmp_path})
    assert settings.database_url == f"sqlite:///{(tmp_path / 'journeybot.db').as_posix()}"
    assert settings.chroma_host is None and settings.chroma_path == tmp_path / "chroma"


def test_environment_and_dotenv(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("JOURNEYBOT_LLM_PROVIDER", raising=False)
    (tmp_path / ".env").write_text("JOURNEYBOT_LLM_PROVIDER=openai\nJOURNEYBOT_LLM_API_KEY=sk-from-dotenv\n")
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://u@h/db")
    settings = load_settings()
    assert settings.database_url == "postgresql+psycopg://u@h/db"
    assert settings.llm_enabled and settings.llm_api_key is not None
    assert settings.llm_api_key.get_secret_value() == "sk-from-dotenv"
    assert "sk-from-dotenv" not in repr(settings) and "sk-from-dotenv" not in str(settings.model_dump())


def test_bad_values_are_rejected_with_the_field_name() -> None:
    with pytest.raises(ValidationError, match="llm_provider"):
        Settings.from_mapping({"llm_provider": "skynet"})
    with pytest.raises(ValidationError, match="embedding_batch_size"):
        Settings.from_mapping({"embedding_batch_size": 0})


def test_database_url_forms(tmp_path: Path) -> None:
    heroku = Settings.from_mapping({"database_url": "postgres://u:pw@db.example:5432/jb"})
    assert heroku.database_url == "postgresql+psycopg://u:pw@db.example:5432/jb" and heroku.uses_postgres
    assert heroku.database_url_display == "postgresql+psycopg://u:***@db.example:5432/jb"
    plain = Settings.from_mapping({"database_url": "postgresql://u@h/db"})
    assert plain.database_url == "postgresql+psycopg://u@h/db"
    assert Settings.from_mapping({"database_url": f"sqlite:///{tmp_path}/x.db"}).database_url.startswith("sqlite:///")
    for bad in ("garbage", "mysql://u:pw@h/db"):
        with pytest.raises(ValidationError, match="database_url|DATABASE_URL"):
            Settings.from_mapping({"database_url": bad})


def test_a_bad_value_becomes_one_line_naming_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    from config import ConfigError

    monkeypatch.setenv("DATABASE_URL", "user:hunter2@host/db")
    monkeypatch.setenv("JOURNEYBOT_RETRIEVAL_TOP_K", "many")
    monkeypatch.setenv("JOURNEYBOT_LOG_LEVEL", "loud")
    with pytest.raises(ConfigError) as info:
        load_settings()
    message = str(info.value)
    assert "\n" not in message and "hunter2" not in message
    for name in ("DATABASE_URL", "JOURNEYBOT_RETRIEVAL_TOP_K='many'", "JOURNEYBOT_LOG_LEVEL 'loud'"):
        assert name in message


def test_default_data_dir_is_per_user_not_per_folder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from platformdirs import user_data_dir

    monkeypatch.delenv("JOURNEYBOT_DATA_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    settings = load_settings()
    assert settings.data_dir == Path(user_data_dir("journeybot", appauthor=False))
    assert settings.data_dir.is_absolute() and not (tmp_path / ".journeybot").exists()
    assert load_settings() is settings  # read once per environment
    monkeypatch.setenv("JOURNEYBOT_DATA_DIR", str(tmp_path / "elsewhere"))
    assert load_settings().data_dir == tmp_path / "elsewhere"
