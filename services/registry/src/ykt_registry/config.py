"""Registry settings (env prefix REGISTRY_; platform-wide settings come from KitSettings)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict
from ykt_kit.config import KitSettings


class Settings(KitSettings):
    """Settings of the registry service."""

    model_config = SettingsConfigDict(env_prefix="REGISTRY_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8101
