"""Figures, periods, pages and readiness as the public sees them (unit tests, no I/O)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from ykt_disclosure.domain import display
from ykt_disclosure.domain.paging import page_of, parse_page
from ykt_disclosure.domain.publication import Expected, Publication, Readiness, readiness


@pytest.mark.parametrize(
    ("fen", "text", "plain"),
    [
        (0, "0.00", "0.00"),
        (5, "0.05", "0.05"),
        (123456, "1,234.56", "1234.56"),
        (100_000_000, "1,000,000.00", "1000000.00"),
    ],
)
def test_disclosure_yuan_has_two_decimals(fen: int, text: str, plain: str) -> None:
    assert display.yuan(fen) == text
    assert display.yuan_plain(fen) == plain


def test_disclosure_periods_and_names_read_in_chinese() -> None:
    assert display.period_label("2025-03") == "2025年3月"
    assert display.period_label("2025-Q2") == "2025年第2季度"
    assert display.period_label("2025") == "2025年度"
    assert display.program_name("HM01") == "耕地地力保护补贴资金"
    assert display.department_name("HM01") == "区农业农村委"
    assert display.town_name("500104101000") == "八桥镇"
    assert display.unit_name("DEPT-CIVIL", "HM10") == "区民政局"
    assert display.unit_name("500104102000", "HM10") == "建胜镇"
    assert display.unit_name("U-UNKNOWN", "HM10") == "区民政局"


def test_disclosure_dates_are_shown_in_china_time() -> None:
    late_utc = datetime(2025, 3, 31, 17, 30, tzinfo=UTC)  # 01:30 on 1 April in Chongqing
    assert display.local_date(late_utc) == "2025-04-01"
    assert display.local_minute(late_utc) == "2025-04-01 01:30"
    assert display.local_date(date(2025, 3, 20)) == "2025-03-20"


def test_disclosure_pages_clamp_and_forgive() -> None:
    assert page_of(1, 0).total_pages == 1
    page = page_of(3, 120)
    assert (page.number, page.offset, page.total_pages, page.has_next) == (3, 100, 3, False)
    assert page_of(99, 120).number == 3
    assert page_of(0, 120).number == 1
    assert [parse_page(x) for x in (None, "", "2", "-4", "x", "3.5")] == [1, 1, 2, 1, 1, 1]


def test_disclosure_readiness_needs_every_row_and_the_same_sum() -> None:
    exp = Expected("b", "HM10", "2025-03", "DEPT-CIVIL", settled_count=2, settled_amount_fen=300)
    assert readiness(None, disclosed_count=2, disclosed_amount_fen=300) is Readiness.WAITING_FOR_COMPLETION
    assert readiness(exp, disclosed_count=1, disclosed_amount_fen=100) is Readiness.WAITING_FOR_RECORDS
    assert readiness(exp, disclosed_count=2, disclosed_amount_fen=300) is Readiness.READY
    assert readiness(exp, disclosed_count=2, disclosed_amount_fen=301) is Readiness.MISMATCH
    assert readiness(exp, disclosed_count=3, disclosed_amount_fen=450) is Readiness.MISMATCH
    empty = Expected("b", "HM10", "2025-03", "DEPT-CIVIL", settled_count=0, settled_amount_fen=0)
    assert readiness(empty, disclosed_count=0, disclosed_amount_fen=0) is Readiness.NOTHING_SETTLED


def test_disclosure_publication_window_and_event() -> None:
    exp = Expected("b", "HM10", "2025-03", "DEPT-CIVIL", settled_count=2, settled_amount_fen=300)
    now = datetime(2025, 3, 21, 2, 0, 0, 123456, tzinfo=UTC)
    pub = Publication.open(exp, now=now, window_days=7)
    assert pub.window_start == now.replace(microsecond=0)
    assert (pub.window_end - pub.window_start).days == 7
    assert pub.is_open(now)
    assert not pub.is_open(pub.window_end)
    event = pub.event()
    assert event.path == f"/public/publications/{pub.publication_id}"
    assert (event.totals.record_count, event.totals.amount_fen) == (2, 300)
