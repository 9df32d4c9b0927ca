"""Settings of the disclosure service (env prefix `DISCLOSURE_`)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict
from ykt_kit.config import KitSettings


class Settings(KitSettings):
    """Platform-wide settings plus the disclosure service's own."""

    model_config = SettingsConfigDict(env_prefix="DISCLOSURE_", extra="ignore", env_file=None)

    host: str = "127.0.0.1"
    port: int = 8105
    window_days: int = Field(
        default=7, ge=1, le=366, description="Length of the public window (公示期), days."
    )
    public_base_url: str = Field(
        default="http://127.0.0.1:8105",
        description="Public origin of the disclosure site, for absolute links.",
    )
