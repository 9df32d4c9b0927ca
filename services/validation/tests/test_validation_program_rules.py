"""Unit tests of the program rules (v2): the payment standard and ceiling, the program's register
requirements and red flags, exclusive-pair keys; and that an event without program rules is
decided as before."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from ykt_contracts import Totals
from ykt_contracts.events import (
    FixedStandardRule,
    PaymentRecord,
    PerUnitStandardRule,
    ProgramRules,
    TieredStandardRule,
    TierRule,
)
from ykt_validation.domain.enjoyment import (
    ExclusionHolder,
    Resolution,
    excluded_by,
    exclusion_pairs,
    pair_key,
    resolve_exclusion,
)
from ykt_validation.domain.registers import Membership, RegisterImportRef, RegisterKind
from ykt_validation.domain.rules import (
    AMOUNT_NOT_STANDARD,
    AMOUNT_OVER_CEILING,
    CURRENT,
    EXCLUSIVE_PROGRAM,
    PASS,
    RED_FLAG_DECEASED,
    RED_FLAG_STATE_SALARIED,
    REGISTER_REQUIRED_MISSING,
    REGISTER_UNAVAILABLE,
    RULE_SET_V1,
    RuleContext,
    amount_standard,
    per_unit_amount,
    program_registers,
)

AS_OF = date(2026, 10, 31)
TODAY = date(2026, 11, 28)


def program(code: str = "HM10", standard: Any = None, **kw: Any) -> ProgramRules:
    return ProgramRules(code=code, frequency="monthly", standard=standard, **kw)


def ctx(prog: ProgramRules | None, **kw: Any) -> RuleContext:
    return RuleContext(prog.code if prog else "HM10", "2026-11", TODAY, program=prog, **kw)


def with_(record: PaymentRecord, **update: Any) -> PaymentRecord:
    return PaymentRecord.model_validate({**record.model_dump(), **update})


FIXED = program(standard=FixedStandardRule(amount_fen=65_000, ceiling_fen=65_000))
PER_MU = program("HM04", PerUnitStandardRule(unit="亩", amount_fen_per_unit=1_200, ceiling_fen=500_000))
TIERED = program(
    "HM14",
    TieredStandardRule(
        tiers=[TierRule(category="一级", amount_fen=10_000), TierRule(category="二级", amount_fen=8_000)]
    ),
)


# ---------------------------------------------------------------- the payment standard


def test_fixed_standard_passes_the_standard_amount(factory: SimpleNamespace) -> None:
    assert amount_standard(factory.record(amount_fen=65_000), ctx(FIXED)) == PASS


def test_fixed_standard_rejects_another_amount_naming_the_standard(factory: SimpleNamespace) -> None:
    d = amount_standard(factory.record(amount_fen=60_000), ctx(FIXED))
    assert (d.outcome, d.code) == ("reject", AMOUNT_NOT_STANDARD)
    assert d.message == "发放金额600.00元与本项目定额标准650.00元不符"


def test_per_unit_standard_is_quantity_times_the_standard_rounded_half_up(factory: SimpleNamespace) -> None:
    assert per_unit_amount(Decimal("2.5004"), 1_200) == 3_000  # 3000.48 → 3000
    assert per_unit_amount(Decimal("0.0005"), 1_000) == 1  # 0.5 → 1 (half up, not to even)
    rec = with_(factory.record(amount_fen=3_000), quantity=Decimal("2.5"))
    assert amount_standard(rec, ctx(PER_MU)) == PASS
    wrong = with_(factory.record(amount_fen=3_001), quantity=Decimal("2.5"))
    d = amount_standard(wrong, ctx(PER_MU))
    assert (d.outcome, d.code) == ("reject", AMOUNT_NOT_STANDARD)
    assert d.message == "发放金额30.01元与数量2.5亩×标准12.00元/亩=30.00元不符"


def test_per_unit_standard_without_a_quantity_checks_only_the_ceiling(factory: SimpleNamespace) -> None:
    assert amount_standard(factory.record(amount_fen=3_001), ctx(PER_MU)) == PASS
    d = amount_standard(factory.record(amount_fen=500_001), ctx(PER_MU))
    assert (d.outcome, d.code) == ("reject", AMOUNT_OVER_CEILING)
    assert d.message == "发放金额5000.01元超过本项目每人每期上限5000.00元"


def test_ceiling_rejects_even_a_computed_amount_above_it(factory: SimpleNamespace) -> None:
    rec = with_(factory.record(amount_fen=600_000), quantity=Decimal("500"))
    assert amount_standard(rec, ctx(PER_MU)).code == AMOUNT_OVER_CEILING
    assert amount_standard(with_(rec, amount_fen=500_000, quantity=Decimal("416.6667")), ctx(PER_MU)) == PASS


def test_tiered_standard_passes_any_tier_amount_without_a_category(factory: SimpleNamespace) -> None:
    assert amount_standard(factory.record(amount_fen=8_000), ctx(TIERED)) == PASS
    d = amount_standard(factory.record(amount_fen=9_000), ctx(TIERED))
    assert (d.outcome, d.code) == ("reject", AMOUNT_NOT_STANDARD)
    assert d.message == "发放金额90.00元不是本项目任一档次的标准（一级100.00元、二级80.00元）"


def test_tiered_standard_with_a_category_requires_that_tiers_amount(factory: SimpleNamespace) -> None:
    assert amount_standard(with_(factory.record(amount_fen=10_000), category="一级"), ctx(TIERED)) == PASS
    d = amount_standard(with_(factory.record(amount_fen=8_000), category="一级"), ctx(TIERED))
    assert (d.code, d.message) == (AMOUNT_NOT_STANDARD, "发放金额80.00元与“一级”档标准100.00元不符")
    u = amount_standard(with_(factory.record(amount_fen=8_000), category="三级"), ctx(TIERED))
    assert (u.code, u.message) == (AMOUNT_NOT_STANDARD, "类别“三级”不在本项目的档次中（一级、二级）")


def test_a_program_without_a_standard_or_an_event_without_a_program_skips_the_amount_rule(
    factory: SimpleNamespace,
) -> None:
    rec = factory.record(amount_fen=1)
    assert amount_standard(rec, ctx(program())) == PASS
    assert amount_standard(rec, ctx(None)) == PASS


# ---------------------------------------------------------------- registers


def _ref(kind: RegisterKind) -> RegisterImportRef:
    return RegisterImportRef(f"imp-{kind.value}", kind, AS_OF, "区民政局")


def _member(kind: RegisterKind, **attributes: Any) -> Membership:
    return Membership(kind, f"imp-{kind.value}", AS_OF, "区民政局", attributes)


ALL_IMPORTED = {k: _ref(k) for k in RegisterKind}
CARE = program("HM14", requires_registers=["disabled"], excludes_registers=["deceased"])
DIBAO = program(excludes_registers=["deceased", "state_support", "state_salaried"])


def test_a_deceased_person_is_rejected(factory: SimpleNamespace) -> None:
    rec = factory.record()
    members = {
        rec.person_key: {RegisterKind.DECEASED: _member(RegisterKind.DECEASED, date_of_death="2026-10-01")}
    }
    d = program_registers(rec, ctx(DIBAO, registers=ALL_IMPORTED, memberships=members))
    assert (d.outcome, d.code) == ("reject", RED_FLAG_DECEASED)
    assert d.message == "死亡人员名册中有此人（死亡日期2026-10-01，名册日期2026-10-31），不得发放"


def test_a_program_requiring_the_disability_register_rejects_a_non_member(factory: SimpleNamespace) -> None:
    rec, member = factory.record(), factory.record()
    members = {member.person_key: {RegisterKind.DISABLED: _member(RegisterKind.DISABLED)}}
    d = program_registers(rec, ctx(CARE, registers=ALL_IMPORTED, memberships=members))
    assert (d.outcome, d.code) == ("reject", REGISTER_REQUIRED_MISSING)
    assert d.message == "不在残疾人名册中（名册日期2026-10-31），不符合本项目发放条件"
    assert program_registers(member, ctx(CARE, registers=ALL_IMPORTED, memberships=members)) == PASS


def test_a_required_register_never_imported_rejects_as_unavailable(factory: SimpleNamespace) -> None:
    d = program_registers(factory.record(), ctx(CARE))
    assert d.code == REGISTER_UNAVAILABLE


def test_a_red_flag_configured_to_warn_passes_with_the_warning(factory: SimpleNamespace) -> None:
    rec = factory.record(amount_fen=65_000)
    members = {rec.person_key: {RegisterKind.STATE_SALARIED: _member(RegisterKind.STATE_SALARIED)}}
    c = ctx(
        program(standard=FixedStandardRule(amount_fen=65_000), excludes_registers=["state_salaried"]),
        registers=ALL_IMPORTED,
        memberships=members,
    )
    [d] = CURRENT.evaluate(Totals(record_count=1, amount_fen=65_000), [rec], c)
    assert (d.outcome, d.code, d.passed) == ("warn", RED_FLAG_STATE_SALARIED, True)


def test_an_event_without_program_rules_is_decided_as_by_the_first_rule_set(factory: SimpleNamespace) -> None:
    records = [factory.record(amount_fen=1), factory.record(amount_fen=0), factory.record("1" * 18)]
    declared = Totals(record_count=3, amount_fen=1)
    c = ctx(None, registers=ALL_IMPORTED)
    assert CURRENT.evaluate(declared, records, c) == RULE_SET_V1.evaluate(declared, records, c)


def test_the_rule_set_is_versioned_and_describes_the_new_codes() -> None:
    assert CURRENT.version == "v2" != RULE_SET_V1.version
    described = {d["code"]: d for d in CURRENT.describe()}
    assert {AMOUNT_NOT_STANDARD, AMOUNT_OVER_CEILING, REGISTER_REQUIRED_MISSING, RED_FLAG_DECEASED} <= set(
        described
    )
    assert described[EXCLUSIVE_PROGRAM]["scope"] == "ledger"
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in d["description"]) for d in described.values())


# ---------------------------------------------------------------- exclusive programs


def test_both_programs_of_an_exclusive_pair_claim_the_same_key() -> None:
    assert pair_key("HM11", "HM10") == pair_key("HM10", "HM11") == "HM10|HM11"
    assert exclusion_pairs(program("HM11", exclusive_with=["HM15", "HM10", "HM11"])) == [
        "HM10|HM11",
        "HM11|HM15",
    ]
    assert exclusion_pairs(program("HM12")) == []
    assert exclusion_pairs(None) == []


def test_an_exclusive_pair_held_by_the_other_program_rejects_naming_it(factory: SimpleNamespace) -> None:
    rec = factory.record()
    other = ExclusionHolder(rec.person_key, "HM10|HM11", "HM10", "rec-x", "batch-x")
    assert resolve_exclusion(rec, "HM11", other) is Resolution.DUPLICATE
    d = excluded_by("HM11", other)
    assert (d.code, d.message) == (
        EXCLUSIVE_PROGRAM,
        "该对象本期已享受（或正在发放）互斥项目 HM10，不得同时享受本项目补贴",
    )
    mine = ExclusionHolder(rec.person_key, "HM10|HM11", "HM11", rec.record_id, "batch-y")
    assert resolve_exclusion(rec, "HM11", mine) is Resolution.HELD_BY_SELF
    reissue = factory.record(rec.id_number, reissue_of_record_id=rec.record_id)
    assert resolve_exclusion(reissue, "HM11", mine) is Resolution.TAKE_OVER
    assert resolve_exclusion(reissue, "HM10", mine) is Resolution.DUPLICATE  # other program's pair
    assert resolve_exclusion(rec, "HM11", None) is Resolution.VANISHED
