"""Settings mixins; each service builds one BaseSettings from them with its own env prefix."""

from __future__ import annotations

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from .crypto import PiiCipher

DEV_SECRET = "dev-only-not-a-secret"  # noqa: S105 - refused outside development, see below
# Development-only keys (hex); refused outside development like DEV_SECRET.
DEV_PII_ENC_KEY = "00112233445566778899aabbccddeeff"
DEV_PII_INDEX_KEY = "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100"


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

    pii_enc_key: str = Field(
        default=DEV_PII_ENC_KEY, alias="YKT_PII_ENC_KEY", description="SM4 key, 32 hex chars."
    )
    pii_index_key: str = Field(
        default=DEV_PII_INDEX_KEY,
        alias="YKT_PII_INDEX_KEY",
        description="Blind-index HMAC key, >= 32 hex chars.",
    )

    @model_validator(mode="after")
    def _refuse_default_secrets(self) -> KitSettings:
        if self.environment != "development":
            for name, value, dev in (
                ("YKT_SERVICE_SECRET", self.service_secret, DEV_SECRET),
                ("YKT_PII_ENC_KEY", self.pii_enc_key, DEV_PII_ENC_KEY),
                ("YKT_PII_INDEX_KEY", self.pii_index_key, DEV_PII_INDEX_KEY),
            ):
                if value == dev:
                    raise ValueError(f"{name} must be set outside development")
        return self

    def pii_cipher(self) -> PiiCipher:
        """The cipher for personal fields at rest, from the configured keys."""
        return PiiCipher.from_hex(self.pii_enc_key, self.pii_index_key)

    @property
    def sqlalchemy_url(self) -> str:
        """The database URL with the psycopg 3 driver named, for SQLAlchemy."""
        url = self.database_url
        for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
            if url.startswith(prefix):
                return "postgresql+psycopg://" + url[len(prefix) :]
        return url
