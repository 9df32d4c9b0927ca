"""Use cases of the disclosure service. Nothing here commits: the caller's transaction does."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from ykt_contracts import BatchCompletedV1, DisclosurePublishedV1, PaymentFailedV1, PaymentSettledV1
from ykt_contracts.reference import PROGRAMS
from ykt_kit import idcard
from ykt_kit.actor import Actor, Role
from ykt_kit.crypto import PiiCipher
from ykt_kit.errors import DomainError, Forbidden, NotFound
from ykt_kit.messaging import PermanentError

from . import metrics
from .adapters.db import repository as repo
from .domain import display
from .domain.masking import (
    DEFAULT_RULE,
    Channel,
    MaskingRule,
    StoredMasks,
    disclose,
    for_channel,
    name_key,
)
from .domain.paging import PAGE_SIZE, Page, page_of
from .domain.publication import (
    Change,
    ChangeKind,
    Expected,
    KnownWindow,
    Publication,
    Readiness,
    WindowPolicy,
    readiness,
    statement_is_clean,
)

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class InconsistentMessage(PermanentError):
    """A message contradicts itself (its declared totals are not its records'): dead-lettered."""


def _after_commit(session: AsyncSession, fn: Callable[[], None]) -> None:
    """Run `fn` once the session's transaction has committed (metrics count only what stuck)."""
    event.listen(session.sync_session, "after_commit", lambda _s: fn(), once=True)


@dataclass(frozen=True)
class Ingest:
    """What ingestion needs besides the message: the cipher for the originals, the window policy,
    the clock, and (for a rebuild) the publications the service already announced."""

    cipher: PiiCipher
    policy: WindowPolicy = field(default_factory=WindowPolicy)
    clock: Clock = utc_now
    known: Mapping[str, KnownWindow] | None = None


# ------------------------------------------------------------------ ingestion


async def record_settled(
    session: AsyncSession, *, payload: PaymentSettledV1, ingest: Ingest
) -> list[DisclosurePublishedV1]:
    """Hold the masked rows of a payment.settled message, then publish the batch if complete."""
    count = len(payload.records)
    amount = sum(r.amount_fen for r in payload.records)
    if (count, amount) != (payload.totals.record_count, payload.totals.amount_fen):
        raise InconsistentMessage("payment.settled totals differ from its records")
    await repo.lock_batch(session, batch_id=payload.batch_id)
    rows = [disclose(payload.batch_id, r, ingest.cipher) for r in payload.records]
    inserted, inserted_fen = await repo.insert_rows(session, rows=rows)
    _after_commit(session, lambda: metrics.records_disclosed(inserted, inserted_fen))
    if inserted and await repo.is_published(session, batch_id=payload.batch_id):
        # the publication keeps the totals it was published with; its page lists the rows held
        log.warning(
            "settled rows arrived for a batch already published",
            extra={"batch_id": payload.batch_id, "rows": inserted},
        )
        await repo.bump_public_version(session)
        return []
    return await _publish_if_complete(session, batch_id=payload.batch_id, ingest=ingest)


async def record_completed(
    session: AsyncSession, *, payload: BatchCompletedV1, ingest: Ingest
) -> list[DisclosurePublishedV1]:
    """Store the batch's settled totals, then publish the batch if its rows are all here."""
    await repo.lock_batch(session, batch_id=payload.batch_id)
    expected = Expected(
        batch_id=payload.batch_id,
        program_code=payload.program_code,
        period=payload.period,
        unit_code=payload.unit_code,
        settled_count=payload.settled.record_count,
        settled_amount_fen=payload.settled.amount_fen,
    )
    if not await repo.insert_expected(session, expected=expected):
        held = await repo.get_expected(session, batch_id=payload.batch_id)
        if held != expected:
            log.warning(
                "batch.completed differs from the totals already held; keeping the first",
                extra={"batch_id": payload.batch_id},
            )
    return await _publish_if_complete(session, batch_id=payload.batch_id, ingest=ingest)


async def record_failed(session: AsyncSession, *, payload: PaymentFailedV1, occurred_at: datetime) -> int:
    """Hold the failed records of a payment.failed message (for the personal query's status)."""
    count = len(payload.records)
    amount = sum(r.amount_fen for r in payload.records)
    if (count, amount) != (payload.totals.record_count, payload.totals.amount_fen):
        raise InconsistentMessage("payment.failed totals differ from its records")
    failed_on = display.china_date(occurred_at)
    rows = [
        {
            "record_id": r.record_id,
            "batch_id": payload.batch_id,
            "person_key": r.person_key,
            "program_code": r.program_code,
            "period": r.period,
            "amount_fen": r.amount_fen,
            "reason_code": r.reason_code,
            "reason": r.reason,
            "failed_on": failed_on,
        }
        for r in payload.records
    ]
    return await repo.insert_failed(session, rows=rows)


async def _publish_if_complete(
    session: AsyncSession, *, batch_id: str, ingest: Ingest
) -> list[DisclosurePublishedV1]:
    """Publish once the held rows match the settled totals; at most once per batch."""
    expected = await repo.get_expected(session, batch_id=batch_id)
    if expected is None or expected.settled_count == 0 or await repo.is_published(session, batch_id=batch_id):
        return []
    known = (ingest.known or {}).get(batch_id)
    if known is not None:
        # a rebuild recreates what the service announced, whatever order the topics replay in
        # (rows that came after the publication may replay before the totals)
        publication = Publication.reopen(expected, known)
        if await repo.insert_publication(session, publication=publication):
            await repo.bump_public_version(session)
            return [publication.event()]
        return []
    count, amount = await repo.tally(session, batch_id=batch_id)
    state = readiness(expected, disclosed_count=count, disclosed_amount_fen=amount)
    if state is Readiness.MISMATCH:
        log.warning(
            "held rows disagree with the settled totals; not publishing",
            extra={"batch_id": batch_id, "held_count": count, "expected_count": expected.settled_count},
        )
    if state is not Readiness.READY:
        return []
    publication = Publication.open(
        expected, now=ingest.clock(), window_days=ingest.policy.days_for(expected.program_code)
    )
    if not await repo.insert_publication(session, publication=publication):
        return []
    await repo.bump_public_version(session)
    _after_commit(session, metrics.publication_made)
    log.info(
        "publication opened", extra={"batch_id": batch_id, "publication_id": str(publication.publication_id)}
    )
    return [publication.event()]


# ------------------------------------------------------------------ masking rules


async def effective_rules(
    session: AsyncSession, *, configured: Mapping[Channel, MaskingRule]
) -> dict[Channel, MaskingRule]:
    """The rule of every channel: the last audited change, else the configuration, else the default."""
    rules = {c: configured.get(c, DEFAULT_RULE) for c in Channel}
    rules.update(await repo.masking_overrides(session))
    return rules


async def rule_for(
    session: AsyncSession, *, channel: Channel, configured: Mapping[Channel, MaskingRule]
) -> MaskingRule:
    return (await effective_rules(session, configured=configured))[channel]


# ------------------------------------------------------------------ public reads


async def public_version(session: AsyncSession) -> str:
    """Version of what the public sees (the API cache's key part): epoch and counter."""
    return await repo.public_version(session)


@dataclass(frozen=True)
class PublicationList:
    """A page of open publications and the choices of the filter form."""

    items: list[Publication]
    page: Page
    periods: list[str]
    places: list[tuple[str, str]]


@dataclass(frozen=True)
class DisclosedLine:
    """One masked row as every public channel shows it."""

    town_code: str
    village: str
    name_masked: str
    id_masked: str
    amount_fen: int
    settled_on: date


@dataclass(frozen=True)
class PublicationPage:
    """A publication, one page of its rows under a filter, the filter's choices and its changes."""

    publication: Publication
    lines: list[DisclosedLine]
    page: Page
    filtered_count: int
    filtered_amount_fen: int
    places: list[tuple[str, str]]
    changes: list[Change]

    @property
    def corrections(self) -> list[Change]:
        return [c for c in self.changes if c.kind is ChangeKind.CORRECTION]

    @property
    def withdrawal(self) -> Change | None:
        return next((c for c in self.changes if c.kind is ChangeKind.WITHDRAWAL), None)


async def current_publications(
    session: AsyncSession,
    *,
    program: str | None,
    town: str | None,
    period: str | None,
    page: int,
    village: str | None = None,
    page_size: int = PAGE_SIZE,
    now: datetime | None = None,
) -> PublicationList:
    """Publications whose window is open, filtered by program, town, village and period."""
    now = now or utc_now()
    total = await repo.count_current(
        session, now=now, program=program, town=town, period=period, village=village
    )
    pg = page_of(page, total, page_size)
    items = await repo.list_current(
        session,
        now=now,
        program=program,
        town=town,
        period=period,
        village=village,
        limit=pg.size,
        offset=pg.offset,
    )
    return PublicationList(
        items=items,
        page=pg,
        periods=await repo.current_periods(session, now=now),
        places=await repo.current_places(session, now=now, town=town),
    )


def parse_publication_id(raw: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(raw)
    except ValueError:
        return None


def _lines(rows: Sequence[Any], cipher: PiiCipher, rule: MaskingRule) -> list[DisclosedLine]:
    """Rows as `rule` shows them (the default reads the stored masks, others decrypt)."""
    out = []
    for m in rows:
        name, id_ = for_channel(
            cipher,
            rule,
            StoredMasks(
                record_id=m["record_id"],
                name_masked=m["name_masked"],
                id_masked=m["id_masked"],
                name_enc=m["name_enc"],
                id_enc=m["id_enc"],
            ),
        )
        out.append(
            DisclosedLine(
                town_code=m["town_code"],
                village=m["village"],
                name_masked=name,
                id_masked=id_,
                amount_fen=int(m["amount_fen"]),
                settled_on=m["settled_on"],
            )
        )
    return out


async def publication_page(
    session: AsyncSession,
    *,
    publication_id: uuid.UUID,
    town: str | None,
    village: str | None,
    page: int,
    cipher: PiiCipher,
    rule: MaskingRule = DEFAULT_RULE,
    page_size: int = PAGE_SIZE,
) -> PublicationPage | None:
    """A publication with one page of its masked rows; None when there is no such publication.

    A publication stays readable after its window ends (links in notices keep working); the
    list of current publications is what drops it. A withdrawn one shows no rows."""
    pub = await repo.get_publication(session, publication_id=publication_id)
    if pub is None:
        return None
    changes = await repo.changes_of(session, publication_ids=[pub.publication_id])
    if pub.withdrawn:
        return PublicationPage(pub, [], page_of(1, 0, page_size), 0, 0, [], changes)
    count, amount = await repo.rows_tally(session, batch_id=pub.batch_id, town=town, village=village)
    pg = page_of(page, count, page_size)
    rows = await repo.list_rows(
        session, batch_id=pub.batch_id, town=town, village=village, limit=pg.size, offset=pg.offset
    )
    return PublicationPage(
        publication=pub,
        lines=_lines(rows, cipher, rule),
        page=pg,
        filtered_count=count,
        filtered_amount_fen=amount,
        places=await repo.places(session, batch_id=pub.batch_id),
        changes=changes,
    )


@dataclass(frozen=True)
class Notice:
    """Everything a printed notice shows: one publication's rows for one village (or all)."""

    publication: Publication
    town: str | None
    village: str | None
    lines: list[DisclosedLine]
    count: int
    amount_fen: int
    corrections: list[Change]


def iso_or_none(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


class PublicationWithdrawn(DomainError):
    status = 410
    code = "PUBLICATION_WITHDRAWN"


async def notice(
    session: AsyncSession,
    *,
    publication_id: uuid.UUID,
    town: str | None,
    village: str | None,
    cipher: PiiCipher,
    rule: MaskingRule,
) -> Notice:
    """The rows of a printed notice; 404 for no such publication or place, 410 when withdrawn."""
    pub = await repo.get_publication(session, publication_id=publication_id)
    if pub is None:
        raise NotFound("未找到该公示", code="PUBLICATION_NOT_FOUND")
    if pub.withdrawn:
        raise PublicationWithdrawn("该公示已撤回", withdrawn_at=iso_or_none(pub.withdrawn_at))
    count, amount = await repo.rows_tally(session, batch_id=pub.batch_id, town=town, village=village)
    if count == 0:
        raise NotFound("该公示中没有这个村（社区）的名单", code="PLACE_NOT_FOUND")
    rows = await repo.list_rows(session, batch_id=pub.batch_id, town=town, village=village, limit=None)
    changes = await repo.changes_of(session, publication_ids=[pub.publication_id])
    return Notice(
        publication=pub,
        town=town,
        village=village,
        lines=_lines(rows, cipher, rule),
        count=count,
        amount_fen=amount,
        corrections=[c for c in changes if c.kind is ChangeKind.CORRECTION],
    )


async def places_of(session: AsyncSession, *, publication_id: uuid.UUID) -> tuple[Publication, list[Any]]:
    """A publication and its count and amount per (town, village); 404/410 as for a notice."""
    pub = await repo.get_publication(session, publication_id=publication_id)
    if pub is None:
        raise NotFound("未找到该公示", code="PUBLICATION_NOT_FOUND")
    if pub.withdrawn:
        raise PublicationWithdrawn("该公示已撤回", withdrawn_at=iso_or_none(pub.withdrawn_at))
    return pub, list(await repo.place_tallies(session, batch_id=pub.batch_id))


# ------------------------------------------------------------------ personal query


class InvalidQuery(DomainError):
    status = 422
    code = "QUERY_INVALID"


@dataclass(frozen=True)
class PersonalItem:
    """One of a person's own payments."""

    program_code: str
    period: str
    amount_fen: int
    on: date
    status: str
    reason: str | None


STATUS_LABELS = {
    "settled": "已发放到账",
    "reissued_settled": "重新发放，已到账",
    "failed_reissued": "发放失败，已重新发放",
    "failed": "发放失败，待重新发放",
}


def check_query(name: str, id_number: str) -> tuple[str, str]:
    """Validate the personal query's input (depends on the input alone, never on the data)."""
    name = name.strip()
    id_number = id_number.strip().upper()
    if not 1 <= len(name) <= 40:
        raise InvalidQuery("请填写姓名（不超过40个字）", field="name")
    if len(id_number) == 18:
        try:
            idcard.parse(id_number)
        except idcard.InvalidId as exc:
            raise InvalidQuery(f"身份证号码有误：{exc.message}", field="id_number") from exc
    elif not (len(id_number) == 15 and id_number.isdigit()):
        raise InvalidQuery("身份证号码应为18位（或15位旧号码）", field="id_number")
    return name, id_number


async def personal_query(
    session: AsyncSession, *, cipher: PiiCipher, name: str, id_number: str
) -> list[PersonalItem]:
    """The payments of the person with this ID number, when the name is one they were paid under.

    An unknown ID number, a wrong name and a person without payments all give an empty list
    through the same statements: the answer cannot tell them apart."""
    person_key = cipher.blind_index(id_number)
    settled, failed = await repo.personal_payments(
        session, person_key=person_key, name_key=name_key(cipher, name)
    )
    failed_keys = {(f["program_code"], f["period"]) for f in failed}
    settled_keys = {(s["program_code"], s["period"]) for s in settled}
    items = [
        PersonalItem(
            program_code=s["program_code"],
            period=s["period"],
            amount_fen=int(s["amount_fen"]),
            on=s["settled_on"],
            status="reissued_settled" if (s["program_code"], s["period"]) in failed_keys else "settled",
            reason=None,
        )
        for s in settled
    ]
    items += [
        PersonalItem(
            program_code=f["program_code"],
            period=f["period"],
            amount_fen=int(f["amount_fen"]),
            on=f["failed_on"],
            status="failed_reissued" if (f["program_code"], f["period"]) in settled_keys else "failed",
            reason=f["reason"],
        )
        for f in failed
    ]
    items.sort(key=lambda i: (i.on, i.program_code, i.period, i.status), reverse=True)
    return items


# ------------------------------------------------------------------ operators


WRITERS = (Role.DEPARTMENT, Role.FINANCE, Role.ADMIN)
READERS = (*WRITERS, Role.SUPERVISOR)


def _department_programs(org: str) -> list[str]:
    return [p.code for p in PROGRAMS if p.department_code == org]


def in_scope(actor: Actor, pub: Publication) -> bool:
    """Finance, admin and supervisors see every publication; a department its own units' and
    programs' publications."""
    if actor.role is Role.DEPARTMENT:
        return pub.unit_code == actor.org_code or pub.program_code in _department_programs(actor.org_code)
    return actor.role in READERS


def _require(actor: Actor, roles: tuple[Role, ...]) -> None:
    if actor.role not in roles:
        raise Forbidden("当前角色无权执行此操作", code="ROLE_FORBIDDEN", role=actor.role.value)


async def _own_publication(session: AsyncSession, actor: Actor, publication_id: uuid.UUID) -> Publication:
    pub = await repo.lock_publication(session, publication_id=publication_id)
    if pub is None:
        raise NotFound("未找到该公示", code="PUBLICATION_NOT_FOUND")
    if not in_scope(actor, pub):
        raise Forbidden("只能处理本单位的公示", code="PUBLICATION_OUT_OF_SCOPE")
    return pub


def _check_texts(reason: str, statement: str) -> None:
    if not reason.strip():
        raise DomainError("请填写原因", code="REASON_REQUIRED", status=422)
    if not statement_is_clean(statement) or not statement_is_clean(reason):
        raise DomainError(
            "原因和说明中不得包含身份证号、银行账号或电话号码", code="PERSONAL_DATA_IN_TEXT", status=422
        )


class PublicationAlreadyWithdrawn(DomainError):
    status = 409
    code = "PUBLICATION_WITHDRAWN"


async def withdraw(
    session: AsyncSession,
    *,
    actor: Actor,
    publication_id: uuid.UUID,
    reason: str,
    statement: str,
    now: datetime | None = None,
) -> tuple[Publication, Change]:
    """Withdraw a publication from every public channel; audited, and the page says so."""
    _require(actor, WRITERS)
    _check_texts(reason, statement)
    pub = await _own_publication(session, actor, publication_id)
    if pub.withdrawn:
        raise PublicationAlreadyWithdrawn("该公示已撤回，不能再次撤回或更正")
    at = now or utc_now()
    change = await repo.add_change(
        session,
        publication_id=pub.publication_id,
        kind=ChangeKind.WITHDRAWAL.value,
        actor_user=actor.user_id,
        actor_role=actor.role.value,
        actor_org=actor.org_code,
        reason=reason.strip(),
        statement=statement.strip() or "本公示已撤回。",
        window_end_before=pub.window_end,
        window_end_after=pub.window_end,
        at=at,
    )
    await repo.apply_withdrawal(session, publication_id=pub.publication_id, at=change.at)
    await repo.bump_public_version(session)
    log.info("publication withdrawn", extra={"publication_id": str(pub.publication_id), "by": actor.user_id})
    return (await repo.get_publication(session, publication_id=pub.publication_id)), change  # type: ignore[return-value]


async def correct(
    session: AsyncSession,
    *,
    actor: Actor,
    publication_id: uuid.UUID,
    reason: str,
    statement: str,
    window_end: datetime | None,
    now: datetime | None = None,
) -> tuple[Publication, Change]:
    """Correct a publication: a public statement (更正说明) and, optionally, a new window end
    (e.g. the window extended after the correction); audited and shown as 更正于 …"""
    _require(actor, WRITERS)
    if not statement.strip():
        raise DomainError("请填写更正说明", code="STATEMENT_REQUIRED", status=422)
    _check_texts(reason, statement)
    pub = await _own_publication(session, actor, publication_id)
    if pub.withdrawn:
        raise PublicationAlreadyWithdrawn("该公示已撤回，不能再次撤回或更正")
    new_end = window_end or pub.window_end
    if new_end.tzinfo is None:
        raise DomainError("公示截止时间须带时区", code="WINDOW_END_NAIVE", status=422)
    if new_end <= pub.window_start:
        raise DomainError("公示截止时间须晚于公示开始时间", code="WINDOW_END_INVALID", status=422)
    at = now or utc_now()
    change = await repo.add_change(
        session,
        publication_id=pub.publication_id,
        kind=ChangeKind.CORRECTION.value,
        actor_user=actor.user_id,
        actor_role=actor.role.value,
        actor_org=actor.org_code,
        reason=reason.strip(),
        statement=statement.strip(),
        window_end_before=pub.window_end,
        window_end_after=new_end,
        at=at,
    )
    await repo.apply_correction(session, publication_id=pub.publication_id, at=change.at, window_end=new_end)
    await repo.bump_public_version(session)
    log.info("publication corrected", extra={"publication_id": str(pub.publication_id), "by": actor.user_id})
    return (await repo.get_publication(session, publication_id=pub.publication_id)), change  # type: ignore[return-value]


async def operator_publications(
    session: AsyncSession,
    *,
    actor: Actor,
    program: str | None,
    status: str | None,
    page: int,
    page_size: int = PAGE_SIZE,
) -> tuple[Page, list[Publication], dict[uuid.UUID, list[Change]]]:
    """Every publication in the actor's scope, any status or window, with its changes."""
    _require(actor, READERS)
    scope_org = actor.org_code if actor.role is Role.DEPARTMENT else None
    where: dict[str, Any] = {
        "program": program,
        "status": status,
        "scope_org": scope_org,
        "scope_programs": _department_programs(actor.org_code) if scope_org else None,
    }
    pg = page_of(page, await repo.count_publications(session, **where), page_size)
    items = await repo.list_publications(session, **where, limit=pg.size, offset=pg.offset)
    changes: dict[uuid.UUID, list[Change]] = {p.publication_id: [] for p in items}
    for c in await repo.changes_of(session, publication_ids=list(changes)):
        changes[c.publication_id].append(c)
    return pg, items, changes


async def operator_publication(
    session: AsyncSession, *, actor: Actor, publication_id: uuid.UUID
) -> tuple[Publication, list[Change]]:
    _require(actor, READERS)
    pub = await repo.get_publication(session, publication_id=publication_id)
    if pub is None:
        raise NotFound("未找到该公示", code="PUBLICATION_NOT_FOUND")
    if not in_scope(actor, pub):
        raise Forbidden("只能查看本单位的公示", code="PUBLICATION_OUT_OF_SCOPE")
    return pub, await repo.changes_of(session, publication_ids=[pub.publication_id])


async def changes(session: AsyncSession, *, publication_id: uuid.UUID) -> list[Change]:
    return await repo.changes_of(session, publication_ids=[publication_id])


async def masking_overview(
    session: AsyncSession, *, actor: Actor, configured: Mapping[Channel, MaskingRule]
) -> tuple[dict[Channel, MaskingRule], list[dict[str, object]]]:
    """The effective rule of every channel and the audit of every change."""
    _require(actor, (Role.ADMIN, Role.FINANCE, Role.SUPERVISOR))
    return await effective_rules(session, configured=configured), await repo.masking_history(session)


async def set_masking(
    session: AsyncSession,
    *,
    actor: Actor,
    channel: Channel,
    rule: MaskingRule,
    reason: str,
    configured: Mapping[Channel, MaskingRule],
    now: datetime | None = None,
) -> dict[str, object]:
    """Change a channel's masking rule (platform administrator only); every change is audited,
    including the ones that make a channel looser than the default."""
    _require(actor, (Role.ADMIN,))
    _check_texts(reason, "")
    await repo.lock_masking(session)
    before = (await effective_rules(session, configured=configured))[channel]
    at = now or utc_now()
    await repo.set_masking_rule(session, channel=channel, rule=rule, at=at)
    change = await repo.add_masking_change(
        session,
        channel=channel.value,
        name_before=before.name.value,
        id_before=before.id.value,
        name_after=rule.name.value,
        id_after=rule.id.value,
        looser_than_default=rule.looser_than_default,
        actor_user=actor.user_id,
        actor_role=actor.role.value,
        actor_org=actor.org_code,
        reason=reason.strip(),
        at=at,
    )
    await repo.bump_public_version(session)
    log.warning(
        "masking rule changed",
        extra={
            "channel": channel.value,
            "name_rule": rule.name.value,
            "id_rule": rule.id.value,
            "looser_than_default": rule.looser_than_default,
            "by": actor.user_id,
        },
    )
    return change
