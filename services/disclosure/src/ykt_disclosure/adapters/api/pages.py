"""Public web pages, no login: server-rendered, Chinese, mobile-first, no JavaScript."""

from __future__ import annotations

from importlib.resources import files
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from ykt_contracts.reference import DISTRICT_NAME, PROGRAMS, TOWNS

from ... import service
from ...domain import display
from ...domain.paging import parse_page
from .deps import HTML_HEADERS, SECURITY_HEADERS, CurrentSettings, Session, clean

router = APIRouter(include_in_schema=False)

COMPLAINT_LINE = "监督电话：12345（政务服务便民热线）、12388（纪检监察举报电话）"

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
)
_CSS = files("ykt_disclosure").joinpath("static/site.css").read_text(encoding="utf-8")


def _render(template: str, *, status: int = 200, **context: Any) -> HTMLResponse:
    html = _env.get_template(template).render(**context)
    return HTMLResponse(html, status_code=status, headers=HTML_HEADERS)


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
    """The publications whose window is open, with a filter form."""
    q = request.query_params
    program, town, period = clean(q.get("program")), clean(q.get("town")), clean(q.get("period"))
    now = service.utc_now()
    result = await service.current_publications(
        session, program=program, town=town, period=period, page=parse_page(q.get("page")), now=now
    )
    return _render(
        "publications.html",
        result=result,
        now=now,
        programs=PROGRAMS,
        towns=TOWNS,
        selected={"program": program or "", "town": town or "", "period": period or ""},
        page_url=lambda n: _link("/public", program=program, town=town, period=period, page=n),
        canonical=settings.public_base_url.rstrip("/") + "/public",
    )


@router.get("/public/publications/{publication_id}", response_class=HTMLResponse)
async def publication_page(
    publication_id: str, request: Request, session: Session, settings: CurrentSettings
) -> HTMLResponse:
    """One publication: its masked rows, paginated, filtered by town and village."""
    q = request.query_params
    town, village = clean(q.get("town")), clean(q.get("village"))
    pid = service.parse_publication_id(publication_id)
    found = (
        await service.publication_page(
            session, publication_id=pid, town=town, village=village, page=parse_page(q.get("page"))
        )
        if pid
        else None
    )
    if found is None:
        return _render("not_found.html", status=404)
    pub = found.publication
    path = pub.path
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
        canonical=settings.public_base_url.rstrip("/") + path,
    )
