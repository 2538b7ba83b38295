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
