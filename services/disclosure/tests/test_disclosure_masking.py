"""Masking of names and ID numbers, done once at ingestion (unit tests, no I/O)."""

from __future__ import annotations

from datetime import date

import pytest
from ykt_contracts import SettledRecord
from ykt_disclosure.domain.masking import disclose, masked_id, masked_name
from ykt_kit.config import DEV_PII_ENC_KEY, DEV_PII_INDEX_KEY
from ykt_kit.crypto import PiiCipher

CIPHER = PiiCipher.from_hex(DEV_PII_ENC_KEY, DEV_PII_INDEX_KEY)


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("张三", "张*"),
        ("张三丰", "张*丰"),
        ("欧阳娜娜", "欧**娜"),
        ("司马相如君", "司**君"),
        ("阿依古丽·买买提", "阿**提"),
        (" 李四 ", "李*"),
        ("王", "*"),
    ],
)
def test_disclosure_names_keep_first_and_last_character(name: str, masked: str) -> None:
    assert masked_name(name) == masked


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("𠮷三", "𠮷*"),  # U+20BB7 lies outside the BMP: one character, two UTF-16 units
        ("吴𠮷", "吴*"),
        ("张𠮷丰", "张*丰"),
        ("𠮷野家康", "𠮷**康"),
        ("李小𠮷", "李*𠮷"),
    ],
)
def test_disclosure_names_with_characters_outside_the_bmp(name: str, masked: str) -> None:
    result = masked_name(name)
    assert result == masked
    assert not any(0xD800 <= ord(c) <= 0xDFFF for c in result)  # never half a surrogate pair
    assert result.encode("utf-8").decode("utf-8") == result


@pytest.mark.parametrize(
    ("id_number", "masked"),
    [
        ("500104199001011234", "5****************4"),
        ("50010419900101123X", "5****************X"),
        ("500104900101123", "5*************3"),  # 15-digit first-generation card
        ("810000199001011238", "8****************8"),  # Hong Kong residence permit
    ],
)
def test_disclosure_id_numbers_keep_first_and_last_character(id_number: str, masked: str) -> None:
    assert masked_id(id_number) == masked
    assert len(masked_id(id_number)) == len(id_number)


def test_disclosure_row_holds_nothing_in_clear() -> None:
    record = SettledRecord(
        end_to_end_id="r-1",
        record_id="r-1",
        person_key="ab" * 32,
        name="欧阳𠮷娜",
        id_number="500104199001011234",
        program_code="HM10",
        period="2025-03",
        town_code="500104101000",
        village=" 八桥村 ",
        amount_fen=12345,
        settled_on=date(2025, 3, 20),
        bank_txn_id="T1",
    )
    row = disclose("b-1", record, CIPHER).as_row()
    assert row["name_masked"] == "欧**娜"
    assert row["id_masked"] == "5****************4"
    assert row["village"] == "八桥村"
    values = " ".join(str(v) for v in row.values())
    raw = b"".join(v for v in row.values() if isinstance(v, bytes))
    for secret in ("500104199001011234", "欧阳𠮷娜", "19900101"):
        assert secret not in values
        assert secret.encode() not in raw
    assert set(row) == {
        "record_id",
        "batch_id",
        "program_code",
        "period",
        "town_code",
        "village",
        "name_masked",
        "id_masked",
        "amount_fen",
        "settled_on",
        "person_key",
        "name_key",
        "name_enc",
        "id_enc",
    }
