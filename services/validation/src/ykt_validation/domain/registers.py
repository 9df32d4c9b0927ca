"""Reference registers (其他数据比对，work plan §四.二): who is in which register, as of which import,
and how a program treats them (pure: no I/O).

A register kind's membership is whatever its *current* import lists; a newer import replaces it
whole and the older one stays as history, so every membership names the import (and the date the
register was valid for) it came from."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any


class RegisterKind(StrEnum):
    """The registers validation compares beneficiaries against (the registry's `Register` values)."""

    DISABLED = "disabled"  # 残疾人
    STATE_SUPPORT = "state_support"  # 特困供养人员
    POVERTY = "poverty"  # 建档立卡 / 脱贫人口
    DECEASED = "deceased"  # 死亡人员
    STATE_SALARIED = "state_salaried"  # 财政供养人员


REGISTER_NAMES: Mapping[RegisterKind, str] = {
    RegisterKind.DISABLED: "残疾人名册",
    RegisterKind.STATE_SUPPORT: "特困供养人员名册",
    RegisterKind.POVERTY: "建档立卡（脱贫）人口名册",
    RegisterKind.DECEASED: "死亡人员名册",
    RegisterKind.STATE_SALARIED: "财政供养人员名册",
}


class FlagPolicy(StrEnum):
    """What a red flag does to a record: refuse it, or let it pass with a warning for the clerk."""

    REJECT = "reject"
    WARN = "warn"


@dataclass(frozen=True)
class RegisterImportRef:
    """One import of a register: the version a membership (or a non-membership) was decided on."""

    import_id: str
    kind: RegisterKind
    as_of: date
    source: str


@dataclass(frozen=True)
class Membership:
    """A person's entry in one register import; `attributes` are the kind's own (JSON) fields:
    `disability_category`/`disability_grade`, `date_of_death`, `employer`, ..."""

    kind: RegisterKind
    import_id: str
    as_of: date
    source: str
    attributes: Mapping[str, Any] = field(default_factory=dict)


#: person_key → kind → membership; people in no register are absent.
Memberships = Mapping[str, Mapping[RegisterKind, Membership]]


@dataclass(frozen=True)
class ProgramRegisters:
    """A program's register requirements, as the registry's catalogue names them
    (`requires_registers`, `excludes_registers`)."""

    code: str
    requires: frozenset[RegisterKind] = frozenset()
    excludes: frozenset[RegisterKind] = frozenset()

    @classmethod
    def of(cls, code: str, *, requires: Any = (), excludes: Any = ()) -> ProgramRegisters:
        """From the catalogue's lists of register names (`["disabled"]`, ...)."""
        return cls(
            code,
            frozenset(RegisterKind(k) for k in requires),
            frozenset(RegisterKind(k) for k in excludes),
        )


#: A red flag nobody configured otherwise: paying the dead is never right; a state-salaried
#: person may have a lawful reason (a register that lags a resignation or retirement), so the
#: clerk looks; the other exclusions are the catalogue's rule and refuse.
DEFAULT_FLAG_POLICY: Mapping[RegisterKind, FlagPolicy] = {
    RegisterKind.DECEASED: FlagPolicy.REJECT,
    RegisterKind.STATE_SALARIED: FlagPolicy.WARN,
    RegisterKind.STATE_SUPPORT: FlagPolicy.REJECT,
    RegisterKind.POVERTY: FlagPolicy.REJECT,
    RegisterKind.DISABLED: FlagPolicy.REJECT,
}


@dataclass(frozen=True)
class RedFlagPolicy:
    """Reject or warn, per register kind, with per-program overrides (e.g. 低保: a state-salaried
    person is refused outright)."""

    default: Mapping[RegisterKind, FlagPolicy] = field(default_factory=lambda: dict(DEFAULT_FLAG_POLICY))
    by_program: Mapping[str, Mapping[RegisterKind, FlagPolicy]] = field(default_factory=dict)

    def for_(self, program_code: str, kind: RegisterKind) -> FlagPolicy:
        override = self.by_program.get(program_code, {}).get(kind)
        if override is not None:
            return override
        return self.default.get(kind, FlagPolicy.REJECT)


DEFAULT_RED_FLAG_POLICY = RedFlagPolicy()


__all__ = [
    "DEFAULT_FLAG_POLICY",
    "DEFAULT_RED_FLAG_POLICY",
    "REGISTER_NAMES",
    "FlagPolicy",
    "Membership",
    "Memberships",
    "ProgramRegisters",
    "RedFlagPolicy",
    "RegisterImportRef",
    "RegisterKind",
]
