"""Public JSON API, no login: the same masked rows as the web pages."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from ykt_kit.errors import NotFound

from ... import service
from ...domain import display
from ...domain.paging import PAGE_SIZE
from .deps import SECURITY_HEADERS, CurrentSettings, Session, clean
from .schemas import PublicationsOut, RecordsOut
from .views import publication_out, record_out

router = APIRouter(prefix="/api/public/v1", tags=["public"])

Filter = Annotated[str | None, Query(max_length=40)]
PageNo = Annotated[int, Query(ge=1, le=1_000_000)]
PageSize = Annotated[int, Query(ge=1, le=200)]


@router.get("/publications", response_model=PublicationsOut)
async def list_publications(
    session: Session,
    settings: CurrentSettings,
    response: Response,
    program: Filter = None,
    town: Filter = None,
    period: Filter = None,
    page: PageNo = 1,
    page_size: PageSize = PAGE_SIZE,
) -> PublicationsOut:
    """Publications whose public window is open now."""
    now = service.utc_now()
    result = await service.current_publications(
        session,
        program=clean(program),
        town=clean(town),
        period=clean(period),
        page=page,
        page_size=page_size,
        now=now,
    )
    response.headers.update(SECURITY_HEADERS)
    return PublicationsOut(
        items=[publication_out(p, base_url=settings.public_base_url, now=now) for p in result.items],
        page=result.page.number,
        page_size=result.page.size,
        total_pages=result.page.total_pages,
        total_items=result.page.total_items,
    )


@router.get("/publications/{publication_id}/records", response_model=RecordsOut)
async def list_records(
    publication_id: str,
    session: Session,
    settings: CurrentSettings,
    response: Response,
    town: Filter = None,
    village: Filter = None,
    page: PageNo = 1,
    page_size: PageSize = PAGE_SIZE,
) -> RecordsOut:
    """One page of a publication's masked rows, filtered by town and village."""
    pid = service.parse_publication_id(publication_id)
    found = (
        await service.publication_page(
            session,
            publication_id=pid,
            town=clean(town),
            village=clean(village),
            page=page,
            page_size=page_size,
        )
        if pid
        else None
    )
    if found is None:
        raise NotFound("未找到该公示", code="PUBLICATION_NOT_FOUND")
    response.headers.update(SECURITY_HEADERS)
    return RecordsOut(
        publication=publication_out(
            found.publication, base_url=settings.public_base_url, now=service.utc_now()
        ),
        items=[record_out(line) for line in found.lines],
        page=found.page.number,
        page_size=found.page.size,
        total_pages=found.page.total_pages,
        total_items=found.filtered_count,
        total_amount_fen=found.filtered_amount_fen,
        total_amount_yuan=display.yuan_plain(found.filtered_amount_fen),
    )
