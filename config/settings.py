"""journeybot's settings: one object, read once from the environment (and `.env`).

Every other module receives a `Settings` instance; none reads `os.environ` itself.
Tests build one from a dict with `Settings.from_mapping({...})`, which ignores the
environment entirely. `config.environment` reads the process's environment
(`load_settings`); `config.database_url` holds the URL rules.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from platformdirs import user_data_dir
from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from config.database_url import normalize_database_url, redact_url

SAMPLE_MAP = Path(__file__).resolve().parent.parent / "knowledge" / "data" / "sample_map.yaml"
DEFAULT_MODEL_DIR = Path.home() / ".cache" / "journeybot" / "models" / "all-MiniLM-L6-v2"
# Per user, not per working directory: a command run from another folder finds the same state.
DEFAULT_DATA_DIR = Path(user_data_dir("journeybot", appauthor=False))
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


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
        default=DEFAULT_DATA_DIR,
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
    embedding_document_max_tokens: int = Field(
        default=32,
        ge=16,
        le=256,
        description="Word pieces of each indexed text the model reads (CPU cost is per token; the full text still feeds keyword search).",
    )

    # --- retrieval ---
    retrieval_top_k: int = Field(default=5, ge=1, le=50, description="Sources per answer.")

    # --- optional LLM ---
    llm_provider: Literal["none", "openai", "anthropic", "ollama", "openai-compatible"] = Field(
        default="none",
        description="`none`, `openai`, `anthropic`, `ollama` or `openai-compatible` (any OpenAI-compatible API at the "
        "base URL; `openai` with a base URL works too). Each needs its langchain integration: pip install "
        "journeybot[llm].",
    )
    llm_model: str = Field(
        default="gpt-4o-mini", description="Model name sent to the LLM API (e.g. gpt-4o-mini, claude-haiku-4-5, llama3.2)."
    )
    llm_api_key: SecretStr | None = Field(
        default=None, description="LLM API key (secret); needed for anthropic and for openai without a base URL, optional otherwise."
    )
    llm_base_url: str | None = Field(
        default=None,
        description="Base URL of the LLM API: required for openai-compatible (e.g. http://localhost:8000/v1); "
        "for ollama default http://localhost:11434.",
    )
    llm_timeout_s: float = Field(
        default=20.0, gt=0, description="Seconds before an LLM call (or a stalled answer stream) gives up."
    )

    # --- HubSpot (CRM gateway) ---
    hubspot_access_token: SecretStr | None = Field(default=None, description="Private-app access token (secret).")
    hubspot_base_url: str = Field(default="https://api.hubapi.com", description="HubSpot API base URL.")
    hubspot_client_secret: SecretStr | None = Field(
        default=None,
        description="The HubSpot app's client secret: verifies deal-stage webhooks at /hubspot/webhooks; unset, "
        "the endpoint is off (404) and the clock's scan alone finds stage changes (secret).",
    )
    hubspot_rate_limit: int = Field(
        default=100, ge=1,
        description="Requests the gateway sends per rolling window (HubSpot: 100 per 10 s on Free/Starter, "
        "190 on Professional/Enterprise). One limiter per process and token.",
    )
    hubspot_rate_window_s: float = Field(default=10.0, gt=0, description="Length of that rolling window, seconds.")
    hubspot_search_per_second: int = Field(
        default=4, ge=1, le=5, description="Search requests per second (HubSpot allows 5 per account; keep one spare)."
    )
    hubspot_max_retries: int = Field(
        default=6, ge=0, le=20,
        description="Retries of one request after 429, 5xx or a connection error, before CrmUnavailable is raised.",
    )
    hubspot_backoff_base_s: float = Field(
        default=0.5, gt=0, description="First retry delay; doubles per attempt with jitter (Retry-After wins when sent)."
    )
    hubspot_backoff_max_s: float = Field(default=30.0, gt=0, description="Longest single wait between retries, seconds.")
    hubspot_timeout_s: float = Field(default=30.0, gt=0, description="Per-request timeout, seconds.")
    hubspot_page_size: int = Field(default=100, ge=1, le=100, description="Objects per list page (HubSpot max 100).")
    hubspot_batch_size: int = Field(
        default=100, ge=1, le=100, description="Ids per batch read (HubSpot max 100; 50 is used with property history)."
    )
    hubspot_search_page_size: int = Field(default=200, ge=1, le=200, description="Results per search page (max 200).")
    hubspot_snapshot_max_age_h: float = Field(
        default=24.0, gt=0,
        description="Hours after which the local CRM snapshot is rebuilt in full (catches deletions) instead of "
        "refreshed with only the objects modified since the last sync.",
    )
    hubspot_sync_overlap_s: float = Field(
        default=300.0, ge=0,
        description="Incremental syncs re-read objects modified this many seconds before the last one seen, "
        "because HubSpot's search index lags writes.",
    )
    hubspot_cs_onboarding_start_property: str = Field(
        default="jb_onboarding_start_date", description="Company property: date onboarding started (day 0 of 90)."
    )
    hubspot_cs_first_value_property: str = Field(
        default="jb_first_value_date", description="Company property: date the first adoption milestone was reached."
    )
    hubspot_cs_business_review_property: str = Field(
        default="jb_business_review_date", description="Company property: date of the last business review."
    )
    hubspot_cs_renewal_property: str = Field(
        default="jb_renewal_date", description="Company property: next renewal date."
    )
    hubspot_cs_nps_property: str = Field(default="jb_nps_score", description="Company property: latest NPS (0-10).")
    hubspot_cs_health_property: str = Field(
        default="jb_health_score", description="Company property: health score (0-100; HubSpot has no standard one)."
    )
    hubspot_cs_escalations_property: str = Field(
        default="jb_open_escalations", description="Company property: number of open escalations."
    )
    hubspot_buying_role_property: str = Field(
        default="hs_buying_role",
        description="Contact property holding buying-committee roles (multi-select; values separated by ';').",
    )
    hubspot_write_notes: bool = Field(
        default=False,
        description="When a rep clicks \"Sent it\" on an asset, also log a note on the HubSpot deal (needs the "
        "crm.objects.contacts.write scope, which HubSpot's notes API requires; the click is recorded either way).",
    )
    influence_min_deals: int = Field(
        default=5, ge=1,
        description="Content influence: fewest deals on each side (sent the asset / not) before the two "
        "conversion rates are compared; below it the report says too few to compare.",
    )
    influence_days: int = Field(
        default=180, ge=1,
        description="Content influence: how far back the report looks (sends and stage entries), days.",
    )

    # --- account readiness ---
    account_engaged_days: int = Field(
        default=60, ge=1,
        description="Account readiness: a buying-committee persona counts as engaged only when a call, email, "
        "meeting, note or completed task involved one of its contacts within this many days (known but quieter "
        "stakeholders are shown as silent).",
    )

    # --- churn rules ---
    churn_rules: str = Field(
        default="first_value,silence,business_review,renewal_executive,low_nps,escalations",
        description="Churn rules to run, comma-separated: first_value, silence, business_review, renewal_executive, "
        "low_nps, escalations (drop one to silence it).",
    )
    churn_first_value_days: int = Field(
        default=30, ge=1,
        description="Churn rule first_value (high): onboarding day by which the first-value milestone must be reached.",
    )
    churn_silence_days: int = Field(
        default=30, ge=1,
        description="Churn rule silence (medium): days without a logged call, email, meeting, note or completed task.",
    )
    churn_onboarding_window_days: int = Field(
        default=180, ge=30,
        description="Churn rules first_value and business_review apply only this many days after onboarding starts "
        "(later, a missing milestone is history, not a new signal).",
    )
    churn_business_review_days: int = Field(
        default=90, ge=1,
        description="Churn rule business_review (medium): onboarding day by which a business review must have happened.",
    )
    churn_renewal_window_days: int = Field(
        default=90, ge=1,
        description="Churn rule renewal_executive (high): a renewal this many days ahead or fewer, with no engagement "
        "involving an economic-buyer contact in as many past days.",
    )
    churn_nps_threshold: float = Field(
        default=6, ge=0, le=10,
        description="Churn rule low_nps: an NPS at or below this is a risk (medium; high at or below the next setting).",
    )
    churn_nps_high_threshold: float = Field(
        default=4, ge=0, le=10, description="Churn rule low_nps: an NPS at or below this is high risk.",
    )
    churn_escalations_max: int = Field(
        default=0, ge=0, description="Churn rule escalations (high): more open escalations than this is a risk.",
    )
    churn_alert_cooldown_days: int = Field(
        default=14, ge=0,
        description="Scheduled churn alerts: days before the same account and rule is alerted again (sooner only if "
        "its severity goes up); an acknowledgement also silences it this long.",
    )

    # --- scheduler ---
    scheduler_misfire_grace_s: int = Field(
        default=21_600, ge=1,
        description="A scheduled post missed while the clock process was down still goes out (once) when it "
        "restarts within this many seconds.",
    )
    scheduler_tick_s: float = Field(
        default=60.0, ge=0.5, le=3600,
        description="How often the clock process renews its leader lease and re-reads subscriptions, seconds; a "
        "waiting clock takes over within this long after the leader stops.",
    )
    scheduler_lease_s: int = Field(
        default=600, ge=10,
        description="Seconds a scheduled run may stay in progress before another worker takes it over (crash recovery).",
    )

    nudge_interval_min: float = Field(
        default=5.0, ge=0,
        description="Deal nudges: the clock scans for deals that changed stage (and reminders due) every this many "
        "minutes and DMs each deal's owner; 0 turns nudges off.",
    )
    nudge_daily_cap: int = Field(
        default=5, ge=1, le=100,
        description="Nudges one rep gets in 24 hours at most; each rep may lower their own (`/journey nudges cap N`).",
    )
    reports_keep_days: float = Field(
        default=30.0, ge=0,
        description="Days the local copies of posted reports (charts, CSVs in <data dir>/reports) are kept; each "
        "scheduled run deletes older ones. 0 keeps them all.",
    )

    # --- Slack ---
    slack_bot_token: SecretStr | None = Field(default=None, description="Bot token, xoxb-… (secret).")
    slack_signing_secret: SecretStr | None = Field(default=None, description="Signing secret that verifies Slack's HTTP requests (secret).")
    slack_app_token: SecretStr | None = Field(
        default=None, description="App-level token, xapp-…; when set the bot runs in Socket Mode (no public URL) (secret)."
    )
    slack_api_base_url: str = Field(default="https://slack.com/api/", description="Slack Web API base URL.")
    slack_command: str = Field(default="/journey", description="The slash command the app registers.")
    slack_crm_channels: str = Field(default="", description="Comma-separated channel ids where CRM skills may run.")
    slack_crm_users: str = Field(default="", description="Comma-separated user ids allowed CRM skills anywhere.")
    slack_crm_usergroups: str = Field(default="", description="Comma-separated user-group ids whose members may run CRM skills.")
    slack_access_help: str = Field(
        default="Ask a workspace admin to add this channel with `/journey config crm on`.",
        description="What a refusal tells users about getting access.",
    )
    slack_app_id: str = Field(
        default="", description="This app's id (A…); requests for another app are refused. Default: read from auth.test."
    )
    slack_team_id: str = Field(
        default="", description="The workspace id (T…); requests from another workspace are refused. Default: read from auth.test."
    )
    slack_queue: Literal["auto", "inprocess", "postgres"] = Field(
        default="auto",
        description="Where acknowledged Slack work waits for a worker: postgres (durable, `worker` processes answer) or "
        "inprocess (threads of the web process); auto picks postgres when DATABASE_URL is PostgreSQL.",
    )
    slack_worker_concurrency: int = Field(default=4, ge=1, le=64, description="Jobs one `worker` process answers at once.")
    slack_worker_nice: int = Field(
        default=10, ge=0, le=19,
        description="How far a `worker` process lowers its own CPU priority (Unix nice): on a machine shared with "
        "`web`, acknowledgements come before answers. 0 keeps the priority it was started with.",
    )
    slack_stalled_after_s: float = Field(
        default=30.0, ge=3.0,
        description="Seconds without a heartbeat after which a worker counts as dead and its jobs go to another worker.",
    )
    log_level: str = Field(default="WARNING", description="Python logging level: DEBUG, INFO, WARNING, ERROR or CRITICAL.")

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        return normalize_database_url(value)

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        level = value.strip().upper()
        if level not in LOG_LEVELS:
            raise ValueError(f"{value!r} is not a log level: use one of {', '.join(LOG_LEVELS)}")
        return level

    @model_validator(mode="after")
    def _derive_paths(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite:///{(self.data_dir / 'journeybot.db').as_posix()}"
        if self.chroma_path is None:
            self.chroma_path = self.data_dir / "chroma"
        return self

    @property
    def database_url_display(self) -> str:
        """The database URL with its password hidden (for messages and `journeybot where`)."""
        return redact_url(self.database_url)

    @property
    def reports_dir(self) -> Path:
        """Where images and CSVs for Slack posts are written before they are uploaded."""
        return self.data_dir / "reports"

    @property
    def vectors_dir(self) -> Path:
        """Snapshots of index releases' vectors (knowledge.unit_vectors): safe to delete."""
        return self.data_dir / "vectors"

    @property
    def uses_postgres(self) -> bool:
        return self.database_url.startswith(("postgresql", "postgres:"))

    @property
    def durable_slack_queue(self) -> bool:
        return self.slack_queue == "postgres" or (self.slack_queue == "auto" and self.uses_postgres)

    @property
    def llm_enabled(self) -> bool:
        return self.llm_provider != "none"

    @classmethod
    def from_mapping(cls, values: dict[str, Any]) -> Settings:
        """Settings from a dict alone: no environment, no `.env` (for tests and embedding)."""
        return _MappingOnlySettings(**values)


class _MappingOnlySettings(Settings):
    """Only the values passed in: the environment and `.env` are not consulted."""

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
