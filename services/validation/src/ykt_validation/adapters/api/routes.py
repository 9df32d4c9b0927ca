"""HTTP routes: thin, one service call each; any signed actor may read."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from ykt_kit.actor import CurrentActor

from ... import service
from .deps import Session
from .schemas import RuleSetOut, VerdictOut, VerdictsOut

router = APIRouter(prefix="/api/v1", tags=["validation"])


@router.get("/verdicts", response_model=VerdictsOut)
async def list_verdicts(
    actor: CurrentActor,
    session: Session,
    batch_id: Annotated[str, Query(min_length=1, max_length=64)],
    outcome: Literal["pass", "reject"] | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 500,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> VerdictsOut:
    """The verdicts of a batch: counts by outcome and code, and a page of verdicts in submission order."""
    page = await service.verdicts_of_batch(
        session, batch_id=batch_id, outcome=outcome, limit=limit, offset=offset
    )
    return VerdictsOut(
        batch_id=page.batch_id,
        counts=page.counts,
        by_code=page.by_code,
        limit=limit,
        offset=offset,
        verdicts=[VerdictOut(**asdict(v)) for v in page.verdicts],
    )


@router.get("/rule-sets", response_model=RuleSetOut)
async def current_rule_set(actor: CurrentActor) -> RuleSetOut:
    """The current rule set version and every code its rules may answer, in Chinese."""
    return RuleSetOut.model_validate(service.describe_rule_set())
