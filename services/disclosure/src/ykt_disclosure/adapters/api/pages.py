"""Public web pages, no login: server-rendered, Chinese, mobile-first, no JavaScript. Also the
printable notice (PDF) and the personal query form."""

from __future__ import annotations

import asyncio
from importlib.resources import files
from typing import Any
from urllib.parse import parse_qs, urlencode

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from ykt_contracts.reference import DISTRICT_NAME, PROGRAMS, TOWNS
from ykt_kit.errors import DomainError

from ... import service
from ...domain import display
from ...domain.masking import Channel
from ...domain.paging import parse_page
from .. import notice_pdf
from ..cache import TooManyQueries
from .deps import (
    HTML_HEADERS,
    SECURITY_HEADERS,
    Cipher,
    CurrentSettings,
    RedisStore,
    Session,
    clean,
    client_id,
)
from .routes import PERSONAL_NOTICE, run_personal_query
from .views import notice_path

router = APIRouter(include_in_schema=False)

COMPLAINT_LINE = "监督电话：12345（政务服务便民热线）、12388（纪检监察举报电话）"
#: Largest form body the personal query reads (two short fields).
MAX_FORM_BYTES = 2048

_env = Environment(
    loader=PackageLoader("ykt_disclosure", "templates"),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_env.filters.update(
    yuan=display.yuan,
    period_label=display.period_label,
    program_name=display.program_name,
    department_name=display.department_name,
    town_name=display.town_name,
    local_date=display.local_date,
    local_minute=display.local_minute,
)
_env.globals.update(
    district=DISTRICT_NAME,
    complaint_line=COMPLAINT_LINE,
    unit_name=display.unit_name,
    status_labels=service.STATUS_LABELS,
)
_CSS = files("ykt_disclosure").joinpath("static/site.css").read_text(encoding="utf-8")


def _render(
    template: str, *, status: int = 200, headers: dict[str, str] | None = None, **context: Any
) -> HTMLResponse:
    html = _env.get_template(template).render(**context)
    return HTMLResponse(html, status_code=status, headers=headers or HTML_HEADERS)


def _link(path: str, **params: object) -> str:
    """`path` with the non-empty parameters as a query string."""
    kept = {k: v for k, v in params.items() if v not in (None, "") and not (k == "page" and v == 1)}
    query = urlencode(kept)
    return f"{path}?{query}" if query else path


@router.get("/", response_class=RedirectResponse)
async def root() -> RedirectResponse:
    return RedirectResponse("/public", status_code=307)


@router.get("/public/assets/site.css")
async def stylesheet() -> Response:
    return Response(
        _CSS,
        media_type="text/css; charset=utf-8",
        headers=SECURITY_HEADERS | {"Cache-Control": "public, max-age=3600"},
    )


@router.get("/public", response_class=HTMLResponse)
async def publications_page(request: Request, session: Session, settings: CurrentSettings) -> HTMLResponse:
    """The publications whose window is open, with a filter form (program, town, village, period)."""
    q = request.query_params
    program, town, period = clean(q.get("program")), clean(q.get("town")), clean(q.get("period"))
    village = clean(q.get("village"))
    now = service.utc_now()
    result = await service.current_publications(
        session,
        program=program,
        town=town,
        village=village,
        period=period,
        page=parse_page(q.get("page")),
        now=now,
    )
    villages: dict[str, list[str]] = {}
    for t, v in result.places:
        villages.setdefault(t, []).append(v)
    return _render(
        "publications.html",
        result=result,
        now=now,
        programs=PROGRAMS,
        towns=TOWNS,
        villages=villages,
        village_known=any(village == v for _, v in result.places),
        selected={
            "program": program or "",
            "town": town or "",
            "period": period or "",
            "village": village or "",
        },
        page_url=lambda n: _link(
            "/public", program=program, town=town, village=village, period=period, page=n
        ),
        pub_url=lambda pub: _link(pub.path, town=town, village=village),
        canonical=settings.public_base_url.rstrip("/") + "/public",
    )


@router.get("/public/publications/{publication_id}", response_class=HTMLResponse)
async def publication_page(
    publication_id: str, request: Request, session: Session, settings: CurrentSettings, cipher: Cipher
) -> HTMLResponse:
    """One publication: its masked rows, paginated, filtered by town and village; its
    corrections (更正于 …); a withdrawn one says so and lists nothing (410)."""
    q = request.query_params
    town, village = clean(q.get("town")), clean(q.get("village"))
    pid = service.parse_publication_id(publication_id)
    rule = await service.rule_for(session, channel=Channel.WEB, configured=settings.configured_rules())
    found = (
        await service.publication_page(
            session,
            publication_id=pid,
            town=town,
            village=village,
            page=parse_page(q.get("page")),
            cipher=cipher,
            rule=rule,
        )
        if pid
        else None
    )
    if found is None:
        return _render("not_found.html", status=404)
    pub = found.publication
    path = pub.path
    if pub.withdrawn:
        return _render("withdrawn.html", status=410, pub=pub, found=found)
    towns = sorted({t for t, _ in found.places})
    villages = sorted({v for t, v in found.places if v and (town is None or t == town)})
    return _render(
        "publication.html",
        found=found,
        pub=pub,
        now=service.utc_now(),
        towns=towns,
        villages=villages,
        selected={"town": town or "", "village": village or ""},
        filtered=bool(town or village),
        page_url=lambda n: _link(path, town=town, village=village, page=n),
        notice_url=notice_path(pub, town=town, village=village),
        canonical=settings.public_base_url.rstrip("/") + path,
    )


@router.get("/public/publications/{publication_id}/notice.pdf")
async def notice(
    publication_id: str, request: Request, session: Session, settings: CurrentSettings, cipher: Cipher
) -> Response:
    """The printable A4 notice (PDF) of a publication, for one village when `village` is given."""
    q = request.query_params
    town, village = clean(q.get("town")), clean(q.get("village"))
    pid = service.parse_publication_id(publication_id)
    if pid is None:
        return _render("not_found.html", status=404)
    try:
        rule = await service.rule_for(session, channel=Channel.PRINT, configured=settings.configured_rules())
        data = await service.notice(
            session, publication_id=pid, town=town, village=village, cipher=cipher, rule=rule
        )
        page_url = settings.public_base_url.rstrip("/") + _link(
            data.publication.path, town=town, village=village
        )
        pdf = await asyncio.to_thread(
            notice_pdf.render,
            data,
            font_path=settings.cjk_font_path,
            issued_at=service.utc_now(),
            page_url=page_url,
        )
    except DomainError as exc:
        return _render("error.html", status=exc.status, message=exc.message)
    filename = f"notice-{data.publication.program_code}-{data.publication.period}.pdf"
    return Response(
        pdf,
        media_type="application/pdf",
        headers=SECURITY_HEADERS | {"Content-Disposition": f'inline; filename="{filename}"'},
    )


# ------------------------------------------------------------------ personal query

PRIVATE_HTML_HEADERS = HTML_HEADERS | {"Cache-Control": "no-store", "Pragma": "no-cache"}


@router.get("/public/query", response_class=HTMLResponse)
async def query_form() -> HTMLResponse:
    """The personal query form: name and ID number, sent by POST."""
    return _render("query.html", headers=PRIVATE_HTML_HEADERS, answered=False, error=None, items=[])


@router.post("/public/query", response_class=HTMLResponse)
async def query_answer(
    request: Request, session: Session, settings: CurrentSettings, store: RedisStore, cipher: Cipher
) -> HTMLResponse:
    """The person's own payments; the same page whether or not the person is known."""
    raw = (await request.body())[:MAX_FORM_BYTES].decode("utf-8", errors="replace")
    form = {k: v[0] for k, v in parse_qs(raw).items()}
    try:
        items = await run_personal_query(
            session,
            store,
            settings,
            cipher,
            client=client_id(request),
            name=form.get("name", "")[:100],
            id_number=form.get("id_number", "")[:40],
        )
    except TooManyQueries as exc:
        headers = PRIVATE_HTML_HEADERS | {"Retry-After": str(exc.details.get("retry_after", 60))}
        return _render("query.html", status=429, headers=headers, answered=False, error=exc.message, items=[])
    except DomainError as exc:
        return _render(
            "query.html",
            status=exc.status,
            headers=PRIVATE_HTML_HEADERS,
            answered=False,
            error=exc.message,
            items=[],
        )
    return _render(
        "query.html",
        headers=PRIVATE_HTML_HEADERS,
        answered=True,
        error=None,
        items=items,
        notice=PERSONAL_NOTICE,
    )
