"""Payment settings (env prefix PAYMENT_; platform-wide settings come from KitSettings)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict
from ykt_kit.config import KitSettings


class Settings(KitSettings):
    """Settings of the payment service."""

    model_config = SettingsConfigDict(env_prefix="PAYMENT_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8103
    treasury_url: str = Field(default="http://127.0.0.1:8202", description="Base URL of the treasury system.")
    treasury_timeout_s: float = Field(default=10.0, gt=0, description="Timeout of one treasury request.")
    special_accounts: dict[str, str] = Field(
        default_factory=dict,
        description="Bank code → the bank's 代发专户 account number (JSON in PAYMENT_SPECIAL_ACCOUNTS); "
        "banks not listed use ZH-<bank_code>-500104.",
    )
    payer_account: str = Field(
        default="GK-500104-0001", description="Treasury account the funds are paid from."
    )

    def special_account(self, bank_code: str) -> str:
        """The agent bank's special account (代发专户) the treasury pays into."""
        return self.special_accounts.get(bank_code, f"ZH-{bank_code}-500104")
