"""Settings of the validation service."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict
from ykt_kit.config import KitSettings


class Settings(KitSettings):
    """Platform-wide settings plus the validation service's own (env prefix `VALIDATION_`)."""

    model_config = SettingsConfigDict(env_prefix="VALIDATION_", extra="ignore", env_file=None)

    host: str = "127.0.0.1"
    port: int = 8102
