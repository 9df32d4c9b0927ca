"""Settings of the bank simulator (environment variables prefixed ``BANKSIM_``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEV_CALLBACK_SECRET = "dev-bank-callback-secret"  # noqa: S105 - a simulator's development default


class Settings(BaseSettings):
    """One process serves several agent banks; every callback is signed with the same secret."""

    model_config = SettingsConfigDict(env_prefix="BANKSIM_", extra="ignore", env_file=None)

    host: str = "127.0.0.1"
    port: int = 8201
    banks: Annotated[tuple[str, ...], NoDecode] = Field(
        default=("CQRCB", "ICBC", "CCB", "ABC", "BOC"),
        description="Bank codes this process serves; in the environment a comma list: CQRCB,ICBC.",
    )
    callback_secret: str = Field(default=DEV_CALLBACK_SECRET, description="HMAC-SHA256 key of X-Signature.")
    accounts_file: Path | None = Field(
        default=None,
        description="JSON list of account-book entries (each with bank_code) loaded at start-up.",
    )
    duplicate_callbacks: bool = Field(default=False, description="Send every result callback twice.")
    callback_attempts: int = Field(default=30, ge=1, description="Attempts per callback until a 2xx answer.")
    callback_backoff_initial: float = Field(default=0.25, ge=0, description="Seconds before the first retry.")
    callback_backoff_max: float = Field(default=2.0, ge=0, description="Cap of the doubling retry delay.")
    callback_timeout: float = Field(
        default=10.0, gt=0, description="Seconds to wait for one callback answer."
    )
    callback_chunk_size: int = Field(default=1000, ge=1, le=1000, description="Results per callback.")
    latency: Annotated[dict[str, float], NoDecode] = Field(
        default_factory=dict,
        description=(
            "Seconds a bank takes before answering its API (credit transfers, status queries, "
            "account verifications), per bank code; in the environment ICBC=5,CCB=0.5. "
            "Changed at run time with PUT /banks/{bank}/admin/latency."
        ),
    )

    @field_validator("latency", mode="before")
    @classmethod
    def _parse_latency(cls, value: Any) -> Any:
        if isinstance(value, str):
            pairs = [p.split("=", 1) for p in value.split(",") if p.strip()]
            if any(len(p) != 2 for p in pairs):
                raise ValueError("latency is a comma list of BANK=seconds")
            value = dict(pairs)
        if isinstance(value, dict):
            out = {str(k).strip().upper(): float(v) for k, v in value.items()}
            if any(v < 0 for v in out.values()):
                raise ValueError("latency must not be negative")
            return out
        return value

    @field_validator("banks", mode="before")
    @classmethod
    def _split_banks(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.split(",")
        if isinstance(value, list | tuple):
            codes = tuple(dict.fromkeys(str(v).strip().upper() for v in value if str(v).strip()))
            if not codes:
                raise ValueError("at least one bank code is required")
            return codes
        return value
