"""The printable A4 notice of one publication for one village (PDF, CJK font embedded)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from fpdf import FPDF
from fpdf.fonts import FontFace
from ykt_kit.errors import DomainError

from ..domain import display
from ..service import Notice

TITLE = "惠民惠农财政补贴资金发放公示"
SUPERVISION = (
    "公示期内，如对公示内容有异议，请向发放单位反映，或拨打监督电话："
    "12345（政务服务便民热线）、12388（纪检监察举报电话）。"
)
_FONT = "cjk"
_WIDTHS = (14, 30, 60, 40, 36)  # 180 mm: A4 less 15 mm margins


class NoticeFontMissing(DomainError):
    """The configured CJK font file is not there: the notice cannot be printed legibly."""

    status = 503
    code = "NOTICE_FONT_MISSING"


def check_font(path: Path) -> None:
    if not path.is_file():
        raise NoticeFontMissing(
            "公告字体文件缺失，暂时无法生成纸质公告（PDF）",
            hint=(
                f"font file not found: {path}; install Debian's fonts-wqy-microhei or set "
                "DISCLOSURE_CJK_FONT_PATH to a TrueType/TTC font with CJK glyphs"
            ),
        )


class _Notice(FPDF):
    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(_FONT, size=9)
        self.cell(0, 6, f"第 {self.page_no()} 页 共 {{nb}} 页", align="C")


def _date_cn(value: datetime) -> str:
    d = display.china_date(value)
    return f"{d.year}年{d.month}月{d.day}日"


def render(notice: Notice, *, font_path: Path, issued_at: datetime, page_url: str) -> bytes:
    """The notice as PDF bytes. Raises NoticeFontMissing when the font file is absent."""
    check_font(font_path)
    pub = notice.publication
    unit = display.unit_name(pub.unit_code, pub.program_code)
    dept = display.department_name(pub.program_code)
    place = " ".join(
        p for p in (display.town_name(notice.town) if notice.town else "", notice.village or "") if p
    )

    pdf = _Notice(orientation="P", unit="mm", format="A4")
    pdf.set_margins(15, 15, 15)
    pdf.set_auto_page_break(True, margin=18)
    pdf.add_font(_FONT, fname=str(font_path))
    pdf.set_lang("zh-CN")
    pdf.set_title(f"{TITLE} {display.program_name(pub.program_code)} {display.period_label(pub.period)}")
    pdf.set_subject(place or unit)
    pdf.set_creator("ykt-disclosure")
    pdf.set_author(unit)
    pdf.set_creation_date(issued_at)
    pdf.add_page()

    pdf.set_font(_FONT, size=20)
    pdf.cell(0, 12, TITLE, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(_FONT, size=13)
    pdf.multi_cell(0, 7, display.program_name(pub.program_code), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)

    pdf.set_font(_FONT, size=11)
    info = [
        f"发布单位：{unit}" + (f"（主管部门：{dept}）" if dept and dept != unit else ""),
        f"补贴项目：{display.program_name(pub.program_code)}",
        f"发放期间：{display.period_label(pub.period)}",
    ]
    if place:
        info.append(f"公示范围：{place}")
    info.append(f"公示期：自 {_date_cn(pub.window_start)} 至 {_date_cn(pub.window_end)}")
    for text in info:
        pdf.multi_cell(0, 6.5, text, new_x="LMARGIN", new_y="NEXT")
    for c in notice.corrections:
        pdf.multi_cell(
            0, 6.5, f"更正于 {display.local_minute(c.at)}：{c.statement}", new_x="LMARGIN", new_y="NEXT"
        )
    pdf.ln(3)

    pdf.set_font(_FONT, size=10.5)
    with pdf.table(
        col_widths=_WIDTHS,
        text_align=("CENTER", "CENTER", "CENTER", "RIGHT", "CENTER"),
        headings_style=FontFace(fill_color=(235, 238, 242)),
        line_height=6.5,
        first_row_as_headings=True,
        repeat_headings=1,
    ) as table:
        head = table.row()
        for h in ("序号", "姓名", "身份证号", "发放金额（元）", "发放日期"):
            head.cell(h)
        for i, line in enumerate(notice.lines, start=1):
            row = table.row()
            row.cell(str(i))
            row.cell(line.name_masked)
            row.cell(line.id_masked)
            row.cell(display.yuan(line.amount_fen))
            row.cell(display.local_date(line.settled_on))
    pdf.ln(2)
    pdf.set_font(_FONT, size=12)
    pdf.multi_cell(
        0,
        7,
        f"合计：{notice.count} 人，发放金额 {display.yuan(notice.amount_fen)} 元",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.ln(2)
    pdf.set_font(_FONT, size=11)
    pdf.multi_cell(0, 6.5, SUPERVISION, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(_FONT, size=9.5)
    pdf.multi_cell(
        0,
        5.5,
        f"本公告中的姓名、身份证号已按个人信息保护要求脱敏。网上查看：{page_url}",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.ln(8)
    pdf.set_font(_FONT, size=12)
    pdf.cell(0, 7, unit, align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 7, _date_cn(issued_at), align="R", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
