"""journeybot's settings: one object, read once from the environment (and `.env`).

Every other module receives a `Settings` instance; none reads `os.environ` itself.
Tests build one from a dict with `Settings.from_mapping({...})`, which ignores the
environment entirely.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

SAMPLE_MAP = Path(__file__).resolve().parent.parent / "knowledge" / "data" / "sample_map.yaml"
DEFAULT_MODEL_DIR = Path.home() / ".cache" / "journeybot" / "models" / "all-MiniLM-L6-v2"


class Settings(BaseSettings):
    """All configuration. Environment variables are JOURNEYBOT_<FIELD>, except DATABASE_URL."""

    model_config = SettingsConfigDict(
        env_prefix="JOURNEYBOT_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
    )

    # --- journey map and local state ---
    journey_map_path: Path = Field(default=SAMPLE_MAP, description="The journey map YAML file.")
    data_dir: Path = Field(
        default=Path(".journeybot"),
        description="Where local state lives (SQLite file, local Chroma) unless overridden.",
    )
    database_url: str = Field(
        default="",
        validation_alias=AliasChoices("DATABASE_URL", "JOURNEYBOT_DATABASE_URL", "database_url"),
        description="SQLAlchemy URL; default a SQLite file in data_dir (WAL mode).",
    )

    # --- vector index ---
    chroma_path: Path | None = Field(default=None, description="Local Chroma directory; default data_dir/chroma.")
    chroma_host: str | None = Field(default=None, description="Chroma server host; when set, the server is used.")
    chroma_port: int = Field(default=8000, description="Chroma server port.")
    chroma_collection_prefix: str = Field(default="journeymap", description="Prefix of the collection names.")

    # --- embeddings ---
    embedding_model_dir: Path = Field(
        default=DEFAULT_MODEL_DIR, description="Folder holding the all-MiniLM-L6-v2 ONNX model files."
    )
    embedding_batch_size: int = Field(default=64, ge=1, le=1024, description="Texts per ONNX batch.")
    embedding_threads: int = Field(default=0, ge=0, description="onnxruntime intra-op threads (0 = all cores).")

    # --- retrieval ---
    retrieval_top_k: int = Field(default=5, ge=1, le=50, description="Sources per answer.")

    # --- optional LLM ---
    llm_provider: Literal["none", "openai"] = Field(
        default="none", description="`openai` = any OpenAI-compatible API through langchain-openai."
    )
    llm_model: str = Field(default="gpt-4o-mini", description="Model name sent to the LLM API.")
    llm_api_key: SecretStr | None = Field(default=None, description="LLM API key (secret).")
    llm_base_url: str | None = Field(default=None, description="Base URL of the OpenAI-compatible API.")
    llm_timeout_s: float = Field(default=20.0, gt=0, description="Seconds before the LLM call gives up.")

    # --- HubSpot (CRM gateway) ---
    hubspot_access_token: SecretStr | None = Field(default=None, description="Private-app access token (secret).")
    hubspot_base_url: str = Field(default="https://api.hubapi.com", description="HubSpot API base URL.")

    log_level: str = Field(default="WARNING", description="Python logging level.")

    @model_validator(mode="after")
    def _derive_paths(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite:///{(self.data_dir / 'journeybot.db').as_posix()}"
        if self.chroma_path is None:
            self.chroma_path = self.data_dir / "chroma"
        return self

    @property
    def llm_enabled(self) -> bool:
        return self.llm_provider != "none"

    @classmethod
    def from_mapping(cls, values: dict[str, Any]) -> Settings:
        """Settings from a dict alone: no environment, no `.env` (for tests and embedding)."""
        return _MappingOnlySettings(**values)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, dotenv_settings, file_secret_settings)


class _MappingOnlySettings(Settings):
    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


def load_settings() -> Settings:
    """Read the settings once, at a process entry point."""
    return Settings()
