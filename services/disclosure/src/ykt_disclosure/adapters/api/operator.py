"""Operator routes (behind the gateway, signed actor headers): withdraw and correct
publications, and the masking rule of each channel. Every change is audited; departments act
on their own units' and programs' publications, finance and the administrator on all;
supervisors read."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query
from ykt_kit.actor import CurrentActor
from ykt_kit.errors import DomainError, NotFound

from ... import service
from ...domain.masking import CHANNEL_LABELS, Channel, IdRule, MaskingRule, NameRule
from ...domain.paging import PAGE_SIZE
from .deps import CurrentSettings, Session
from .schemas import (
    CorrectionIn,
    MaskingChangeOut,
    MaskingIn,
    MaskingOut,
    MaskingRuleOut,
    OperatorPublicationOut,
    OperatorPublicationsOut,
    WithdrawalIn,
)
from .views import operator_publication_out

router = APIRouter(prefix="/api/v1/disclosure", tags=["operators"])


def _pid(raw: str) -> uuid.UUID:
    pid = service.parse_publication_id(raw)
    if pid is None:
        raise NotFound("未找到该公示", code="PUBLICATION_NOT_FOUND")
    return pid


@router.get("/publications", response_model=OperatorPublicationsOut, summary="公示管理列表（含已撤回）")
async def list_publications(
    actor: CurrentActor,
    session: Session,
    settings: CurrentSettings,
    program: Annotated[str | None, Query(max_length=32)] = None,
    status: Annotated[str | None, Query(pattern="^(published|withdrawn)$")] = None,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
) -> OperatorPublicationsOut:
    pg, items, changes = await service.operator_publications(
        session, actor=actor, program=program, status=status, page=page, page_size=PAGE_SIZE
    )
    return OperatorPublicationsOut(
        items=[
            operator_publication_out(p, changes[p.publication_id], base_url=settings.public_base_url)
            for p in items
        ],
        page=pg.number,
        page_size=pg.size,
        total_pages=pg.total_pages,
        total_items=pg.total_items,
    )


@router.get(
    "/publications/{publication_id}", response_model=OperatorPublicationOut, summary="公示详情及变更记录"
)
async def get_publication(
    publication_id: str, actor: CurrentActor, session: Session, settings: CurrentSettings
) -> OperatorPublicationOut:
    pub, changes = await service.operator_publication(
        session, actor=actor, publication_id=_pid(publication_id)
    )
    return operator_publication_out(pub, changes, base_url=settings.public_base_url)


@router.post(
    "/publications/{publication_id}/withdrawal",
    response_model=OperatorPublicationOut,
    summary="撤回公示（留痕）",
)
async def withdraw(
    publication_id: str, body: WithdrawalIn, actor: CurrentActor, session: Session, settings: CurrentSettings
) -> OperatorPublicationOut:
    pub, _ = await service.withdraw(
        session,
        actor=actor,
        publication_id=_pid(publication_id),
        reason=body.reason,
        statement=body.statement,
    )
    return operator_publication_out(
        pub,
        await service.changes(session, publication_id=pub.publication_id),
        base_url=settings.public_base_url,
    )


@router.post(
    "/publications/{publication_id}/corrections",
    response_model=OperatorPublicationOut,
    summary="更正公示（留痕，公示页显示“更正于 …”）",
)
async def correct(
    publication_id: str, body: CorrectionIn, actor: CurrentActor, session: Session, settings: CurrentSettings
) -> OperatorPublicationOut:
    pub, _ = await service.correct(
        session,
        actor=actor,
        publication_id=_pid(publication_id),
        reason=body.reason,
        statement=body.statement,
        window_end=body.window_end,
    )
    return operator_publication_out(
        pub,
        await service.changes(session, publication_id=pub.publication_id),
        base_url=settings.public_base_url,
    )


def _masking_out(rules: dict[Channel, MaskingRule], history: list[dict[str, object]]) -> MaskingOut:
    return MaskingOut(
        rules=[
            MaskingRuleOut(
                channel=c.value,
                channel_label=CHANNEL_LABELS[c],
                name=r.name.value,
                id=r.id.value,
                looser_than_default=r.looser_than_default,
            )
            for c, r in rules.items()
        ],
        changes=[MaskingChangeOut.model_validate(h) for h in history],
    )


@router.get("/masking", response_model=MaskingOut, summary="各渠道脱敏规则及变更记录")
async def masking(actor: CurrentActor, session: Session, settings: CurrentSettings) -> MaskingOut:
    rules, history = await service.masking_overview(
        session, actor=actor, configured=settings.configured_rules()
    )
    return _masking_out(rules, history)


@router.put("/masking/{channel}", response_model=MaskingOut, summary="调整渠道脱敏规则（平台管理员，留痕）")
async def set_masking(
    channel: str, body: MaskingIn, actor: CurrentActor, session: Session, settings: CurrentSettings
) -> MaskingOut:
    try:
        ch = Channel(channel)
        rule = MaskingRule(name=NameRule(body.name), id=IdRule(body.id))
    except ValueError as exc:
        raise DomainError("未知的渠道或脱敏规则", code="MASKING_RULE_UNKNOWN", status=422) from exc
    await service.set_masking(
        session,
        actor=actor,
        channel=ch,
        rule=rule,
        reason=body.reason,
        configured=settings.configured_rules(),
    )
    rules, history = await service.masking_overview(
        session, actor=actor, configured=settings.configured_rules()
    )
    return _masking_out(rules, history)
