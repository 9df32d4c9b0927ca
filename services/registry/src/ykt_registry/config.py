"""Registry settings (env prefix REGISTRY_; platform-wide settings come from KitSettings)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict
from ykt_kit.config import KitSettings


class Settings(KitSettings):
    """Settings of the registry service."""

    model_config = SettingsConfigDict(env_prefix="REGISTRY_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8101
    upload_dir: str | None = Field(
        default=None, description="Where uploaded batch files are spooled while read (default: the temp dir)."
    )
    max_upload_bytes: int = Field(default=2 << 30, description="Largest batch file accepted, in bytes.")
    max_json_bytes: int = Field(
        default=64 << 20,
        description="Largest JSON document read whole; larger batches come as CSV or JSON Lines.",
    )
