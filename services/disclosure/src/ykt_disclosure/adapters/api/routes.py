"""Public JSON API for kiosks and WeChat mini-programs, no login: the same masked rows as the web
pages (under the `api` channel's masking rule), answers cached in Redis and sent with ETags; and
the personal query."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from ykt_kit.errors import NotFound

from ... import service
from ...domain import display
from ...domain.masking import Channel
from ...domain.paging import PAGE_SIZE
from ..cache import TooManyQueries
from .deps import (
    PRIVATE_HEADERS,
    SECURITY_HEADERS,
    Cipher,
    CurrentSettings,
    RedisStore,
    Session,
    clean,
    client_id,
)
from .schemas import (
    PersonalQueryIn,
    PersonalQueryOut,
    PlacesOut,
    PublicationsOut,
    RecordsOut,
)
from .views import personal_item_out, place_out, publication_out, record_out

router = APIRouter(prefix="/api/public/v1", tags=["public"])

Filter = Annotated[str | None, Query(max_length=40)]
PageNo = Annotated[int, Query(ge=1, le=1_000_000)]
PageSize = Annotated[int, Query(ge=1, le=200)]

PERSONAL_NOTICE = (
    "仅显示与所填姓名和身份证号码一致的本人发放记录。如未查到记录，可能是尚未发放，"
    "或所填信息与登记信息不一致，请向所在镇街或主管部门咨询；"
    "监督电话：12345（政务服务便民热线）、12388（纪检监察举报电话）。"
)


def _etag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def _matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    tags = [t.strip().removeprefix("W/") for t in if_none_match.split(",")]
    return "*" in tags or etag in tags


async def _cached(
    request: Request,
    session: Session,
    store: RedisStore,
    settings: CurrentSettings,
    build: Callable[[], Awaitable[BaseModel]],
) -> Response:
    """The answer from Redis when this version of the public data was already answered, else
    built and cached; 304 when the client's If-None-Match names it."""
    version = await service.public_version(session)
    query = "&".join(f"{k}={v}" for k, v in sorted(request.query_params.multi_items()))
    key = f"{version}:{request.url.path}?{query}"
    body = await store.cached(key)
    if body is None:
        body = (await build()).model_dump_json().encode()
        await store.cache(key, body, settings.cache_seconds)
    etag = _etag(body)
    headers = SECURITY_HEADERS | {"ETag": etag, "Cache-Control": f"public, max-age={settings.cache_seconds}"}
    if _matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/json", headers=headers)


@router.get("/publications", response_model=PublicationsOut)
async def list_publications(
    request: Request,
    session: Session,
    settings: CurrentSettings,
    store: RedisStore,
    program: Filter = None,
    town: Filter = None,
    village: Filter = None,
    period: Filter = None,
    page: PageNo = 1,
    page_size: PageSize = PAGE_SIZE,
) -> Response:
    """Publications whose public window is open now."""

    async def build() -> PublicationsOut:
        now = service.utc_now()
        result = await service.current_publications(
            session,
            program=clean(program),
            town=clean(town),
            village=clean(village),
            period=clean(period),
            page=page,
            page_size=page_size,
            now=now,
        )
        return PublicationsOut(
            items=[publication_out(p, base_url=settings.public_base_url, now=now) for p in result.items],
            page=result.page.number,
            page_size=result.page.size,
            total_pages=result.page.total_pages,
            total_items=result.page.total_items,
        )

    return await _cached(request, session, store, settings, build)


@router.get("/publications/{publication_id}/records", response_model=RecordsOut)
async def list_records(
    publication_id: str,
    request: Request,
    session: Session,
    settings: CurrentSettings,
    store: RedisStore,
    cipher: Cipher,
    town: Filter = None,
    village: Filter = None,
    page: PageNo = 1,
    page_size: PageSize = PAGE_SIZE,
) -> Response:
    """One page of a publication's masked rows, filtered by town and village (410 once withdrawn)."""

    async def build() -> RecordsOut:
        pid = service.parse_publication_id(publication_id)
        rule = await service.rule_for(session, channel=Channel.API, configured=settings.configured_rules())
        found = (
            await service.publication_page(
                session,
                publication_id=pid,
                town=clean(town),
                village=clean(village),
                page=page,
                page_size=page_size,
                cipher=cipher,
                rule=rule,
            )
            if pid
            else None
        )
        if found is None:
            raise NotFound("未找到该公示", code="PUBLICATION_NOT_FOUND")
        if found.publication.withdrawn:
            raise service.PublicationWithdrawn(
                "该公示已撤回", withdrawn_at=service.iso_or_none(found.publication.withdrawn_at)
            )
        return RecordsOut(
            publication=publication_out(
                found.publication,
                base_url=settings.public_base_url,
                now=service.utc_now(),
                changes=found.changes,
            ),
            items=[record_out(line) for line in found.lines],
            page=found.page.number,
            page_size=found.page.size,
            total_pages=found.page.total_pages,
            total_items=found.filtered_count,
            total_amount_fen=found.filtered_amount_fen,
            total_amount_yuan=display.yuan_plain(found.filtered_amount_fen),
        )

    return await _cached(request, session, store, settings, build)


@router.get("/publications/{publication_id}/places", response_model=PlacesOut)
async def list_places(
    publication_id: str,
    request: Request,
    session: Session,
    settings: CurrentSettings,
    store: RedisStore,
) -> Response:
    """The villages of a publication, each with its count, amount and printable notice (PDF)."""

    async def build() -> PlacesOut:
        pid = service.parse_publication_id(publication_id)
        if pid is None:
            raise NotFound("未找到该公示", code="PUBLICATION_NOT_FOUND")
        pub, places = await service.places_of(session, publication_id=pid)
        return PlacesOut(
            publication=publication_out(pub, base_url=settings.public_base_url, now=service.utc_now()),
            items=[place_out(pub, m, base_url=settings.public_base_url) for m in places],
        )

    return await _cached(request, session, store, settings, build)


@router.post("/personal-query", response_model=PersonalQueryOut)
async def personal_query(
    body: PersonalQueryIn,
    request: Request,
    session: Session,
    settings: CurrentSettings,
    store: RedisStore,
    cipher: Cipher,
) -> Response:
    """A person's own payments, by name and ID number (POST: they stay out of URLs and logs).

    Rate-limited per client and per ID number. An unknown person, a wrong name and a person
    without payments get the same answer: 200 and no items."""
    try:
        items = await run_personal_query(
            session,
            store,
            settings,
            cipher,
            client=client_id(request),
            name=body.name,
            id_number=body.id_number,
        )
    except TooManyQueries as exc:
        return JSONResponse(
            exc.body(),
            status_code=exc.status,
            headers=PRIVATE_HEADERS | {"Retry-After": str(exc.details.get("retry_after", 60))},
        )
    out = PersonalQueryOut(
        items=[personal_item_out(i) for i in items], total=len(items), notice=PERSONAL_NOTICE
    )
    return Response(out.model_dump_json(), media_type="application/json", headers=PRIVATE_HEADERS)


async def run_personal_query(
    session: Session,
    store: RedisStore,
    settings: CurrentSettings,
    cipher: Cipher,
    *,
    client: str,
    name: str,
    id_number: str,
) -> list[service.PersonalItem]:
    """Rate limits first (junk input counts too), then the input check, then the query."""
    await store.hit(
        "query-client", client, limit=settings.query_limit, window_seconds=settings.query_window_seconds
    )
    name, id_number = service.check_query(name, id_number)
    await store.hit(
        "query-id", cipher.blind_index(id_number), limit=settings.query_limit_per_id, window_seconds=3600
    )
    return await service.personal_query(session, cipher=cipher, name=name, id_number=id_number)
