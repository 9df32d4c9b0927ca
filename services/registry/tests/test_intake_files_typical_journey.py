"""File intake, the usual way: a town uploads its Annex 2 collection form or a payment list as
XLSX or CSV (as Excel and WPS write them), every row is read and checked, the clerk gets a report."""

from __future__ import annotations

import io
import tracemalloc
from datetime import date
from pathlib import Path

import openpyxl
from openpyxl.styles import Font
from ykt_kit import idcard, synthetic
from ykt_registry.intake import (
    BENEFICIARY_FORM,
    PAYMENT_FORM,
    AccountCarrier,
    BeneficiaryChecker,
    PaymentChecker,
    checker_for,
    open_table,
    write_issue_report,
)
from ykt_registry.intake.bench import bench_parse
from ykt_registry.intake.fixtures import (
    BANK_NAMES,
    BENEFICIARY_HEADER,
    PAYMENT_HEADER,
    TOWN_NAMES,
    beneficiary_rows,
    payment_rows,
    people,
    write_csv,
    write_xlsx,
)

TODAY = date(2025, 1, 15)
TOWN = "500104101000"  # 八桥镇


def _payment_checker() -> PaymentChecker:
    return PaymentChecker(towns=TOWN_NAMES, banks=BANK_NAMES, today=TODAY)


def test_annex2_xlsx_with_a_title_row_is_read_and_normalised(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "名册.xlsx", BENEFICIARY_HEADER, beneficiary_rows(50), title="大渡口区个人一卡通账户收集表"
    )
    with open_table(path, path.name) as table:
        assert (table.format, table.form, table.header_row) == ("xlsx", BENEFICIARY_FORM, 2)
        checker = BeneficiaryChecker(towns=TOWN_NAMES, banks=BANK_NAMES, today=TODAY)
        accepted = [r for n, cells in table if (r := checker.check(n, cells)) is not None]
    assert checker.issues == []
    assert (checker.summary.rows, checker.summary.accepted, checker.summary.rejected) == (50, 50, 0)
    first = accepted[0]
    expected = next(people(1))
    assert first.row == 3
    assert (first.name, first.id_number, first.account_no) == (
        expected.name,
        expected.id_number,
        expected.account_no,
    )
    assert first.town_code in TOWN_NAMES and first.bank_code in BANK_NAMES
    assert first.carrier is AccountCarrier.SOCIAL_SECURITY_CARD
    assert first.holder_name == first.name
    assert len({r.id_number for r in accepted}) == 50


def test_payment_list_as_bomless_gbk_csv_gives_exact_fen_and_control_totals(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "发放.csv", PAYMENT_HEADER, payment_rows(12), encoding="gbk")
    assert not path.read_bytes().startswith(b"\xef\xbb\xbf")
    with open_table(path, path.name) as table:
        assert table.form is PAYMENT_FORM
        checker = _payment_checker()
        rows = [r for n, cells in table if (r := checker.check(n, cells)) is not None]
        assert table.encoding == "gb18030"
    # _AMOUNTS cycles 65.00, 120.50, 240, 1830.00, 95.3, 2,400.00 from the second entry on.
    assert [r.amount_fen for r in rows[:6]] == [12050, 24000, 183000, 9530, 240000, 6500]
    assert checker.summary.amount_fen == sum(r.amount_fen for r in rows)
    assert checker.summary.accepted == 12
    # Bank and town may be given by name or code; both resolve to codes.
    assert {r.bank_code for r in rows} <= set(BANK_NAMES)
    assert {r.town_code for r in rows} <= set(TOWN_NAMES)


def test_utf8_csv_with_bom_reads_header_and_rows(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "p.csv", PAYMENT_HEADER, payment_rows(3), encoding="utf-8-sig")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    with open_table(path, "p.csv") as table:
        assert table.columns["id_number"] == "身份证号码"
        got = list(table)
        assert table.encoding == "utf-8-sig"
    assert [n for n, _ in got] == [2, 3, 4]


def test_gb18030_csv_keeps_a_rare_character_outside_gbk(tmp_path: Path) -> None:
    p = next(people(1))
    name = "𠮷" + p.name  # U+20BB7: four bytes in GB18030, absent from GBK
    row = [p.id_number, name, p.account_no, "CQRCB", "300", TOWN, "民胜村"]
    header = ["身份证号码", "姓名", "账号", "代发银行", "发放金额（元）", "镇街", "村（社区）"]
    path = write_csv(tmp_path / "rare.csv", header, [row], encoding="gb18030")
    with open_table(path.read_bytes(), "rare.csv") as table:
        ((n, cells),) = list(table)
        assert table.encoding == "gb18030"
    record = _payment_checker().check(n, cells)
    assert record is not None and record.name == name and record.amount_fen == 30000


def test_xlsx_with_merged_title_two_row_header_and_trailing_empty_rows(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["大渡口区2024年耕地地力保护补贴发放清单"])
    ws.merge_cells("A1:H1")
    ws.append(["序号", "身份证号码", "姓名", "账户信息", None, None, "发放金额（元）", "镇街"])
    ws.append([None, None, None, "账号", "代发银行", "账户载体", None, None])
    for merged in ("A2:A3", "B2:B3", "C2:C3", "D2:F2", "G2:G3", "H2:H3"):
        ws.merge_cells(merged)
    ps = list(people(3))
    for i, p in enumerate(ps, start=1):
        ws.append([i, p.id_number, p.name, p.account_no, "中国农业银行", "银行卡", 88.8, "八桥镇"])
    for r in range(7, 40):  # formatted but empty rows, as Excel leaves them
        ws.cell(row=r, column=2).font = Font(bold=True)
    path = tmp_path / "merged.xlsx"
    wb.save(path)

    with open_table(path, "merged.xlsx") as table:
        assert table.header_row == 3 and table.form is PAYMENT_FORM
        assert table.columns["account_no"] == "账号" and table.columns["name"] == "姓名"
        rows = list(table)
    assert [n for n, _ in rows] == [4, 5, 6]
    checker = _payment_checker()
    records = [checker.check(n, c) for n, c in rows]
    assert checker.issues == []
    assert [(r.id_number, r.bank_code, r.town_code, r.amount_fen) for r in records if r] == [
        (p.id_number, "ABC", TOWN, 8880) for p in ps
    ]


def test_numeric_xlsx_cells_for_ids_and_accounts_keep_their_digits(tmp_path: Path) -> None:
    ps = list(people(2))
    account16 = "621700001234567" + synthetic.luhn_digit("621700001234567")
    rows = [
        # Numbers a program wrote exactly (up to 16 digits): read back as their digits.
        [ps[0].id_number, ps[0].name, int(account16), "CQRCB", 120, int(TOWN)],
        # IDs and accounts typed into Excel as numbers: only 15 significant digits survive.
        [float(ps[1].id_number), ps[1].name, float(ps[1].account_no), "CQRCB", 120.5, float(TOWN)],
    ]
    path = write_xlsx(tmp_path / "n.xlsx", ["身份证号码", "姓名", "账号", "代发银行", "金额", "镇街"], rows)
    with open_table(path, "n.xlsx") as table:
        got = list(table)
    first, second = got[0][1], got[1][1]
    assert (first["account_no"], first["amount"], first["town"]) == (account16, "120", TOWN)
    assert (second["amount"], second["town"]) == ("120.5", TOWN)
    assert first.lossy == frozenset()
    # Never a float or scientific notation, but flagged: the digits are no longer the real ones.
    assert second["id_number"].isdigit() and len(second["id_number"]) == 18
    assert second["account_no"].isdigit() and len(second["account_no"]) == len(ps[1].account_no)
    assert second.lossy == {"id_number", "account_no"}
    checker = _payment_checker()
    record = checker.check(*got[0])
    assert record is not None and record.account_no == account16 and record.town_code == TOWN
    assert checker.check(*got[1]) is None
    assert {(i.column, i.code) for i in checker.issues} == {
        ("身份证号码", "NUMBER_PRECISION_LOST"),
        ("账号", "NUMBER_PRECISION_LOST"),
    }


def test_error_report_lists_issues_masked_with_chinese_headers(tmp_path: Path) -> None:
    ps = list(people(3))
    bad_check = ps[1].id_number[:17] + ("0" if ps[1].id_number[17] != "0" else "1")
    rows = [
        [ps[0].id_number, ps[0].name, ps[0].account_no, "CQRCB", "100", TOWN],
        [bad_check, ps[1].name, ps[1].account_no, "CQRCB", "100", TOWN],
        [ps[0].id_number, '=HYPERLINK("http://x")', ps[2].account_no, "CQRCB", "12.345", TOWN],
    ]
    path = write_csv(tmp_path / "e.csv", ["身份证号码", "姓名", "账号", "代发银行", "金额", "镇街"], rows)
    checker = _payment_checker()
    with open_table(path, "e.csv") as table:
        for n, cells in table:
            checker.check(n, cells)
    report = tmp_path / "report.xlsx"
    assert write_issue_report(checker.issues, report, summary=checker.summary, filename="e.csv") == len(
        checker.issues
    )

    wb = openpyxl.load_workbook(report)
    ws = wb["错误明细"]
    lines = list(ws.iter_rows(values_only=True))
    assert lines[0] == ("行号", "列", "错误代码", "说明", "级别", "原值（已脱敏）")
    by_code = {line[2]: line for line in lines[1:]}
    assert by_code["ID_CHECKSUM"][:5] == (
        3,
        "身份证号码",
        "ID_CHECKSUM",
        "第3行【身份证号码】：校验位错误",
        "错误",
    )
    assert by_code["PERSON_DUPLICATE"][3] == "第4行【身份证号码】：与第2行为同一人（身份证号码重复）"
    assert by_code["AMOUNT_DECIMALS"][0] == 4
    # Nothing in the report shows a full ID or account number.
    text = " ".join(str(v) for line in lines for v in line if v is not None)
    for p in ps:
        assert p.id_number not in text and p.account_no not in text
    assert bad_check not in text
    summary = {row[0]: row[1] for row in wb["汇总"].iter_rows(values_only=True)}
    assert summary["数据行数"] == "3" or summary["数据行数"] == 3
    assert idcard.is_valid(ps[0].id_number)


def test_streaming_200k_rows_through_reader_and_checker_stays_in_bounded_memory(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "big.csv", PAYMENT_HEADER, payment_rows(200_000))
    tracemalloc.start()
    try:
        with open_table(path, path.name) as table:
            checker = checker_for(table.form, towns=TOWN_NAMES, banks=BANK_NAMES, today=TODAY)
            for n, cells in table:
                checker.check(n, cells)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert checker.summary.rows == checker.summary.accepted == 200_000
    assert peak < 64 * 1024 * 1024, f"peak traced memory {peak / 2**20:.1f} MB"
    # The file itself is far larger than what was held: rows were never all in memory.
    assert path.stat().st_size > 15 * 1024 * 1024


def test_bench_parse_reports_rows_and_rate(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "b.xlsx", BENEFICIARY_HEADER, beneficiary_rows(200))
    figures = bench_parse(path)
    assert (figures["format"], figures["form"], figures["rows"], figures["accepted"]) == (
        "xlsx",
        "beneficiary",
        200,
        200,
    )
    assert figures["rows_per_s"] > 0 and figures["peak_rss_mb"] > 0


def test_upload_stream_that_cannot_seek_is_spooled_for_xlsx(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "s.xlsx", PAYMENT_HEADER, payment_rows(5))

    class Pipe(io.RawIOBase):
        def __init__(self, data: bytes) -> None:
            self._src = io.BytesIO(data)

        def readable(self) -> bool:
            return True

        def readinto(self, b: bytearray) -> int:  # type: ignore[override]
            chunk = self._src.read(len(b))
            b[: len(chunk)] = chunk
            return len(chunk)

    stream = Pipe(path.read_bytes())
    assert not stream.seekable()
    with open_table(stream, "s.xlsx") as table:
        assert len(list(table)) == 5
