"""Settings of the bank-gateway (env prefix BANKGW_): where banks are, how callbacks reach us,
which adapter speaks to which bank, how hard to retry."""

from __future__ import annotations

from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict
from ykt_kit.config import KitSettings

#: Development-only secret banks sign their callbacks with; refused outside development.
DEV_CALLBACK_SECRET = "dev-bank-callback-secret"  # noqa: S105 - refused outside development, see below


def _codes(value: str) -> list[str]:
    return [c.strip().upper() for c in value.split(",") if c.strip()]


class Settings(KitSettings):
    """Bank-gateway settings."""

    model_config = SettingsConfigDict(env_prefix="BANKGW_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8104
    public_url: str = Field(
        default="http://127.0.0.1:8104",
        description="Our base URL as banks reach it; callback URLs are built on it.",
    )
    bank_sim_url: str = Field(default="http://127.0.0.1:8201", description="Base URL of the banks' JSON API.")
    callback_secret: str = Field(
        default=DEV_CALLBACK_SECRET, description="HMAC-SHA256 key of the X-Signature banks put on callbacks."
    )
    banks: str = Field(
        default="CQRCB,ICBC,CCB,ABC,BOC",
        description="Comma list of bank codes served by the JSON API adapter.",
    )
    send_batch_size: int = Field(default=1000, ge=1, le=10_000, description="Instructions per bank request.")
    bank_timeout_seconds: float = Field(default=30.0, gt=0, description="Timeout of one bank request.")
    retry_base_seconds: float = Field(default=1.0, gt=0, description="First back-off after a failed send.")
    retry_max_seconds: float = Field(default=300.0, gt=0, description="Back-off cap.")
    poll_seconds: float = Field(
        default=1.0, gt=0, description="The dispatcher looks for work at least this often."
    )
    query_after_seconds: float = Field(
        default=900.0,
        gt=0,
        description="Ask the bank for a sent instruction's result when no callback came by then.",
    )
    query_batch_size: int = Field(
        default=50, ge=1, le=1000, description="Status queries per dispatcher pass."
    )
    # -- account verification (POST /api/v1/account-verifications) ---------------------------
    verify_timeout_seconds: float = Field(
        default=10.0, gt=0, description="One verification request to a bank; no answer by then = pending."
    )
    verify_batch_size: int = Field(
        default=1000, ge=1, le=1000, description="Items per verification request to a bank."
    )
    verify_concurrency: int = Field(
        default=4, ge=1, le=32, description="Verification requests in flight per bank at once."
    )
    verify_ttl_verified_seconds: int = Field(
        default=86_400, ge=0, description="How long a verified answer is reused (0: not cached)."
    )
    verify_ttl_rejected_seconds: int = Field(
        default=3_600, ge=0, description="How long a rejection is reused (0: not cached)."
    )
    verify_retry_after_seconds: int = Field(
        default=60, ge=1, description="Advice to callers when to ask again about a pending item."
    )
    verify_via_json_api: str = Field(
        default="",
        description=(
            "Comma list of banks paid through an adapter that cannot verify accounts but that "
            "offer the JSON verification API at bank_sim_url; other such banks answer unsupported."
        ),
    )
    redis_prefix: str = Field(default="ykt:bankgw:", description="Prefix of every Redis key of this service.")

    @model_validator(mode="after")
    def _refuse_default_callback_secret(self) -> Settings:
        if self.environment != "development" and self.callback_secret == DEV_CALLBACK_SECRET:
            raise ValueError("BANKGW_CALLBACK_SECRET must be set outside development")
        return self

    def bank_adapters(self) -> dict[str, str]:
        """Which adapter (by name) serves which bank code; a bank is served by one adapter."""
        routes: dict[str, str] = {}
        for adapter, codes in (("json-api", self.banks),):
            for code in _codes(codes):
                routes.setdefault(code, adapter)
        return routes

    def verify_via_json_api_banks(self) -> set[str]:
        return set(_codes(self.verify_via_json_api))

    def callback_url(self, bank_code: str) -> str:
        return f"{self.public_url.rstrip('/')}/bank-callbacks/{bank_code}"
