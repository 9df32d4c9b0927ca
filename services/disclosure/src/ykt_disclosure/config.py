"""Settings of the disclosure service (env prefix `DISCLOSURE_`)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import SettingsConfigDict
from ykt_kit.config import KitSettings

from .domain.masking import Channel, IdRule, MaskingRule, NameRule
from .domain.publication import WindowPolicy

#: Debian's fonts-wqy-microhei (TrueType collection; a CJK font the PDF notice embeds).
DEFAULT_CJK_FONT = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"


class Settings(KitSettings):
    """Platform-wide settings plus the disclosure service's own."""

    model_config = SettingsConfigDict(env_prefix="DISCLOSURE_", extra="ignore", env_file=None)

    host: str = "127.0.0.1"
    port: int = 8105
    window_days: int = Field(
        default=7, ge=1, le=366, description="Length of the public window (公示期), days."
    )
    program_window_days: dict[str, int] = Field(
        default_factory=dict,
        description='Per-program window in days, JSON: {"HM01": 15}. Programs not named use window_days.',
    )
    public_base_url: str = Field(
        default="http://127.0.0.1:8105",
        description="Public origin of the disclosure site, for absolute links.",
    )
    masking: dict[Channel, dict[str, str]] = Field(
        default_factory=dict,
        description=(
            'Stricter masking per channel, JSON: {"api": {"name": "surname"}, "print": {"id": "hidden"}}. '
            "Only the default or stricter rules are accepted here; a looser one needs an audited "
            "change through the operator API."
        ),
    )
    cjk_font_path: Path = Field(
        default=Path(DEFAULT_CJK_FONT), description="TrueType/TTC font with CJK glyphs for the PDF notice."
    )
    redis_prefix: str = "ykt:disclosure:"
    cache_seconds: int = Field(default=60, ge=1, le=3600, description="Redis cache lifetime of API answers.")
    query_limit: int = Field(default=5, ge=1, description="Personal queries per client per query window.")
    query_window_seconds: int = Field(default=60, ge=1)
    query_limit_per_id: int = Field(
        default=10, ge=1, description="Personal queries naming one ID number per hour, from any client."
    )
    client_ip_header: str | None = Field(
        default=None,
        description=(
            "Header carrying the client address set by the trusted reverse proxy (e.g. x-real-ip); "
            "unset: the peer address."
        ),
    )

    @field_validator("program_window_days")
    @classmethod
    def _window_bounds(cls, value: dict[str, int]) -> dict[str, int]:
        for program, days in value.items():
            if not 1 <= int(days) <= 366:
                raise ValueError(f"window for {program} must be 1–366 days")
        return value

    @field_validator("masking")
    @classmethod
    def _never_looser_by_configuration(
        cls, value: dict[Channel, dict[str, str]]
    ) -> dict[Channel, dict[str, str]]:
        for channel, parts in value.items():
            unknown = set(parts) - {"name", "id"}
            if unknown:
                raise ValueError(f"masking.{channel}: unknown parts {sorted(unknown)}")
            rule = MaskingRule(
                name=NameRule(parts.get("name", "default")), id=IdRule(parts.get("id", "default"))
            )
            if rule.looser_than_default:
                raise ValueError(
                    f"masking.{channel} is looser than the default; make that change through "
                    "PUT /api/v1/disclosure/masking/{channel}, where it is audited"
                )
        return value

    def window_policy(self) -> WindowPolicy:
        return WindowPolicy(default_days=self.window_days, program_days=dict(self.program_window_days))

    def configured_rules(self) -> dict[Channel, MaskingRule]:
        """The masking rule of every channel as configured (before audited changes)."""
        out = {c: MaskingRule() for c in Channel}
        for channel, parts in self.masking.items():
            out[Channel(channel)] = MaskingRule(
                name=NameRule(parts.get("name", "default")), id=IdRule(parts.get("id", "default"))
            )
        return out
