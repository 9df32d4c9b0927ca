"""Gateway settings (env prefix GATEWAY_)."""

from __future__ import annotations

from pydantic import model_validator
from pydantic_settings import SettingsConfigDict
from ykt_kit.config import KitSettings

DEV_DEMO_PASSWORD = "Demo-Passw0rd!"  # noqa: S105 - development only, refused elsewhere


class Settings(KitSettings):
    """Settings of the gateway."""

    model_config = SettingsConfigDict(env_prefix="GATEWAY_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8000
    registry_url: str = "http://127.0.0.1:8101"
    validation_url: str = "http://127.0.0.1:8102"
    payment_url: str = "http://127.0.0.1:8103"
    bank_gateway_url: str = "http://127.0.0.1:8104"
    disclosure_url: str = "http://127.0.0.1:8105"
    token_ttl_seconds: int = 8 * 3600
    max_failed_logins: int = 5
    lockout_seconds: int = 15 * 60
    seed_demo_users: bool = True
    demo_password: str = DEV_DEMO_PASSWORD
    upstream_timeout_seconds: float = 120.0
    redis_prefix: str = "ykt:gw:"

    @model_validator(mode="after")
    def _no_demo_users_in_production(self) -> Settings:
        if (
            self.environment != "development"
            and self.seed_demo_users
            and self.demo_password == DEV_DEMO_PASSWORD
        ):
            raise ValueError(
                "GATEWAY_DEMO_PASSWORD must be set (or GATEWAY_SEED_DEMO_USERS=false) outside development"
            )
        return self
