"""Settings mixins; each service builds one BaseSettings from them with its own env prefix."""

from __future__ import annotations

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SECRET = "dev-only-not-a-secret"  # noqa: S105 - refused outside development, see below


class KitSettings(BaseSettings):
    """Settings every service shares; read from unprefixed, platform-wide variables."""

    model_config = SettingsConfigDict(extra="ignore", env_file=None)

    environment: str = Field(default="development", alias="YKT_ENV")
    database_url: str = Field(default="postgresql://postgres@127.0.0.1:5432/ykt", alias="DATABASE_URL")
    redis_url: str = Field(default="redis://127.0.0.1:6379/0", alias="REDIS_URL")
    kafka_bootstrap: str = Field(default="127.0.0.1:9092", alias="KAFKA_BOOTSTRAP_SERVERS")
    otlp_endpoint: str | None = Field(default=None, alias="OTEL_EXPORTER_OTLP_ENDPOINT")
    log_level: str = Field(default="INFO", alias="LOG_LEVEL")
    log_dir: str | None = Field(default=None, alias="YKT_LOG_DIR")
    service_secret: str = Field(
        default=DEV_SECRET,
        alias="YKT_SERVICE_SECRET",
        description="Shared secret that the gateway signs actor headers with.",
    )

    @model_validator(mode="after")
    def _refuse_default_secrets(self) -> KitSettings:
        if self.environment != "development" and self.service_secret == DEV_SECRET:
            raise ValueError("YKT_SERVICE_SECRET must be set outside development")
        return self

    @property
    def sqlalchemy_url(self) -> str:
        """The database URL with the psycopg 3 driver named, for SQLAlchemy."""
        url = self.database_url
        for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
            if url.startswith(prefix):
                return "postgresql+psycopg://" + url[len(prefix) :]
        return url
