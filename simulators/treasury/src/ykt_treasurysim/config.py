"""Settings of the treasury simulator (environment variables prefixed ``TREASURYSIM_``)."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Where the simulator listens; it keeps everything in memory."""

    model_config = SettingsConfigDict(env_prefix="TREASURYSIM_", extra="ignore", env_file=None)

    host: str = "127.0.0.1"
    port: int = 8202
