"""Unit tests of the pure rules, the rule set and the duplicate-enjoyment decisions."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import pytest
from ykt_contracts import Totals
from ykt_kit import idcard
from ykt_validation.domain.enjoyment import Holder, Resolution, first_per_person, resolve
from ykt_validation.domain.rules import (
    CURRENT,
    PASS,
    RULE_SET_V1,
    RuleContext,
    amount_positive,
    chunk_totals,
    identity,
    yuan,
)

CTX = RuleContext(program_code="HM10", period="2025-01", today=date(2025, 1, 15))


def _with_check(first17: str) -> str:
    return first17 + idcard.check_char(first17)


def _x_ending() -> str:
    for seq in range(1000):
        candidate = idcard.make("500104", date(1961, 3, 7), seq)
        if candidate.endswith("X"):
            return candidate
    raise AssertionError("no X check character in 1000 sequences")


# ---------------------------------------------------------------- identity


def test_id_ending_in_x_passes_in_either_case(factory: SimpleNamespace) -> None:
    id_number = _x_ending()
    assert identity(factory.record(id_number), CTX) == PASS
    assert identity(factory.record(id_number[:17] + "x"), CTX) == PASS


def test_29_february_passes_in_a_leap_year(factory: SimpleNamespace) -> None:
    assert identity(factory.record(_with_check("500104" + "20000229" + "123")), CTX) == PASS


def test_29_february_of_a_non_leap_year_is_rejected(factory: SimpleNamespace) -> None:
    verdict = identity(factory.record(_with_check("500104" + "20010229" + "123")), CTX)
    assert (verdict.outcome, verdict.code) == ("reject", "ID_BIRTH_DATE")
    assert verdict.message == "身份证号码中的出生日期不存在"


def test_birth_date_after_today_is_rejected(factory: SimpleNamespace) -> None:
    verdict = identity(factory.record(_with_check("500104" + "20250116" + "123")), CTX)
    assert verdict.code == "ID_BIRTH_DATE"
    assert identity(factory.record(_with_check("500104" + "20250115" + "123")), CTX) == PASS


@pytest.mark.parametrize("prefix", ["810000", "820000", "830000"])
def test_hk_macau_taiwan_residence_permits_pass(factory: SimpleNamespace, prefix: str) -> None:
    id_number = idcard.make(prefix, date(1988, 8, 8), 42)
    assert identity(factory.record(id_number), CTX) == PASS
    assert idcard.parse(id_number).residence_permit


def test_wrong_check_character_is_rejected(factory: SimpleNamespace) -> None:
    good = idcard.make("500104", date(1975, 6, 1), 321)
    wrong = good[:17] + ("1" if good[17] != "1" else "2")
    verdict = identity(factory.record(wrong), CTX)
    assert (verdict.outcome, verdict.code, verdict.message) == (
        "reject",
        "ID_CHECKSUM",
        "身份证号码校验位错误",
    )


@pytest.mark.parametrize("bad", ["500104750601321", "50010419750601321A", "5001041975060A3211"])
def test_malformed_id_is_rejected_as_format(factory: SimpleNamespace, bad: str) -> None:
    verdict = identity(factory.record(bad), CTX)
    assert verdict.code == "ID_FORMAT"
    assert "18位" in verdict.message


# ---------------------------------------------------------------- amount


def test_amount_zero_is_rejected(factory: SimpleNamespace) -> None:
    verdict = amount_positive(factory.record(amount_fen=0), CTX)
    assert (verdict.outcome, verdict.code, verdict.message) == (
        "reject",
        "AMOUNT_INVALID",
        "发放金额必须大于0",
    )


def test_amount_of_one_fen_passes(factory: SimpleNamespace) -> None:
    assert amount_positive(factory.record(amount_fen=1), CTX) == PASS


# ---------------------------------------------------------------- chunk totals


def test_chunk_totals_equal_to_the_records_pass(factory: SimpleNamespace) -> None:
    records = [factory.record(amount_fen=10_050, seq=i) for i in (1, 2, 3)]
    assert chunk_totals(Totals(record_count=3, amount_fen=30_150), records) == PASS


def test_chunk_totals_off_by_one_fen_reject_every_record_naming_both_figures(
    factory: SimpleNamespace,
) -> None:
    records = [factory.record(amount_fen=10_050, seq=i) for i in (1, 2, 3)]
    declared = Totals(record_count=3, amount_fen=30_151)
    verdicts = RULE_SET_V1.evaluate(declared, records, CTX)
    assert len(verdicts) == 3
    assert {v.code for v in verdicts} == {"CHUNK_TOTALS_MISMATCH"}
    assert all(v.outcome == "reject" for v in verdicts)
    assert "301.51" in verdicts[0].message
    assert "301.50" in verdicts[0].message
    assert "3条" in verdicts[0].message


def test_chunk_count_mismatch_is_rejected(factory: SimpleNamespace) -> None:
    records = [factory.record(seq=1)]
    verdict = chunk_totals(Totals(record_count=2, amount_fen=12_000), records)
    assert verdict.code == "CHUNK_TOTALS_MISMATCH"
    assert "2条" in verdict.message
    assert "1条" in verdict.message


def test_chunk_totals_mismatch_overrides_record_rules(factory: SimpleNamespace) -> None:
    records = [factory.record("500104750601321", seq=1, amount_fen=0)]
    verdicts = RULE_SET_V1.evaluate(Totals(record_count=1, amount_fen=1), records, CTX)
    assert verdicts[0].code == "CHUNK_TOTALS_MISMATCH"


def test_yuan_formatting() -> None:
    assert (yuan(0), yuan(1), yuan(100), yuan(30_151), yuan(-5)) == (
        "0.00",
        "0.01",
        "1.00",
        "301.51",
        "-0.05",
    )


# ---------------------------------------------------------------- rule set


def test_rule_set_reports_the_first_failing_rule_in_order(factory: SimpleNamespace) -> None:
    good_id = idcard.make("500104", date(1975, 6, 1), 321)
    bad_id_and_zero = factory.record(good_id[:17] + ("1" if good_id[17] != "1" else "2"), amount_fen=0, seq=1)
    zero_only = factory.record(amount_fen=0, seq=2)
    good = factory.record(seq=3)
    records = [bad_id_and_zero, zero_only, good]
    verdicts = CURRENT.evaluate(Totals(record_count=3, amount_fen=12_000), records, CTX)
    assert [v.code for v in verdicts] == ["ID_CHECKSUM", "AMOUNT_INVALID", "OK"]
    assert verdicts[2].message == "校验通过"


def test_empty_chunk_has_no_verdicts() -> None:
    assert CURRENT.evaluate(Totals(record_count=0, amount_fen=0), [], CTX) == []


def test_rule_set_describes_every_code_in_chinese() -> None:
    described = {d["code"]: d for d in RULE_SET_V1.describe()}
    assert RULE_SET_V1.version == "v1"
    assert set(described) == {
        "CHUNK_TOTALS_MISMATCH",
        "ID_FORMAT",
        "ID_CHECKSUM",
        "ID_BIRTH_DATE",
        "AMOUNT_INVALID",
        "DUPLICATE_ENJOYMENT",
    }
    assert described["DUPLICATE_ENJOYMENT"]["scope"] == "ledger"
    assert described["CHUNK_TOTALS_MISMATCH"]["scope"] == "chunk"
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in d["description"]) for d in described.values())


# ---------------------------------------------------------------- duplicate enjoyment decisions


def test_first_record_of_a_person_in_a_chunk_claims_and_later_ones_do_not(factory: SimpleNamespace) -> None:
    shared = factory.id_number()
    records = [factory.record(shared, seq=1), factory.record(seq=2), factory.record(shared, seq=3)]
    first, later = first_per_person(records, [0, 1, 2])
    assert (first, later) == ([0, 1], [2])
    # a record already rejected by another rule is not a candidate and does not block the next one
    assert first_per_person(records, [1, 2]) == ([1, 2], [])


def test_resolve_against_the_holder(factory: SimpleNamespace) -> None:
    original = factory.record(seq=1)
    reissue = factory.record(original.id_number, seq=1, reissue_of_record_id=original.record_id)
    other = factory.record(original.id_number, seq=1)
    held = Holder(original.person_key, original.record_id, "batch-a")
    assert resolve(original, held) is Resolution.HELD_BY_SELF
    assert resolve(reissue, held) is Resolution.TAKE_OVER
    assert resolve(other, held) is Resolution.DUPLICATE
    assert resolve(other, None) is Resolution.VANISHED
    # a re-issue of some other record does not take over this person's claim
    stray = factory.record(original.id_number, seq=1, reissue_of_record_id=other.record_id)
    assert resolve(stray, held) is Resolution.DUPLICATE
