"""Batch intake at district scale (step 1, 提交数据): a batch of any size is checked row by row,
stored with COPY and sent to validation as numbered chunks, whole or not at all, in bounded
memory.

The rows come from a `RowSource` (see `batch_files`). CPU work (checks, pricing, encryption;
decryption and envelopes when emitting) runs in a worker thread one slice at a time while the
database works on the previous slice, so the event loop stays responsive and PostgreSQL and
Python overlap. Everything happens in the caller's transaction: a bad row or a control-total
mismatch raises, and the caller's rollback leaves nothing behind.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import sqlalchemy as sa
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from ykt_contracts import (
    MAX_RECORDS_PER_CHUNK,
    BatchSubmittedV1,
    ChunkInfo,
    PaymentRecord,
    ProgramRules,
    Totals,
)
from ykt_kit.actor import Actor, Role, require
from ykt_kit.crypto import PiiCipher
from ykt_kit.errors import Conflict
from ykt_kit.metrics import AMOUNT_FEN, RECORDS
from ykt_kit.outbox import OUTBOX, outbox_rows

from .adapters.api.schemas import BatchIn, BatchMetaIn, RecordIn
from .adapters.db import repository as repo
from .batch_files import LABELS, IntakeRow, RowSource
from .domain.model import (
    BatchMetaInvalid,
    BatchNumberConflict,
    BatchStatus,
    DuplicateFile,
    InvalidRecords,
    NoRecords,
    OutOfScope,
    RecordStatus,
    RowError,
    UnknownProgram,
    check_totals,
    content_hash,
    fen_from_yuan,
    yuan,
)

log = logging.getLogger(__name__)

SERVICE = "registry"
UNIT_ROLES = (Role.DEPARTMENT, Role.TOWN)
#: Records per COPY statement (one slice of CPU work in the worker thread).
COPY_ROWS = 5_000
#: Records read per keyset page when emitting a round: 50 chunks of 100.
EMIT_PAGE = 50 * MAX_RECORDS_PER_CHUNK
#: Row errors returned to the clerk; the count of all of them is returned too.
MAX_ROW_ERRORS = 500


@dataclass(frozen=True)
class Submission:
    """A batch's own data, where its records come from and what was uploaded."""

    meta: BatchMetaIn
    rows: Callable[[], RowSource] = field(repr=False)
    file_sha256: str
    file_format: str
    file_name: str | None = None
    file_bytes: int | None = None


def submission_of_body(body: BatchIn) -> Submission:
    """A JSON body (the small-batch API) as a submission; its records' canonical hash is its file hash."""
    meta = BatchMetaIn(
        unit_batch_no=body.unit_batch_no,
        program_code=body.program_code,
        period=body.period,
        declared=body.declared,
    )

    def rows() -> RowSource:
        for n, r in enumerate(body.records, start=1):
            yield IntakeRow(
                row=n,
                id_number=r.id_number,
                name=r.name,
                account_no=r.account_no,
                bank_code=r.bank_code,
                amount_fen=r.amount_fen,
                quantity=r.quantity,
                town_code=r.town_code,
                village=r.village,
            )

    digest = content_hash([r.model_dump(mode="json") for r in body.records])
    return Submission(meta=meta, rows=rows, file_sha256=digest, file_format="api-json")


def meta_from_query(q: Mapping[str, str | None]) -> BatchMetaIn:
    """The batch data of an upload, from its query parameters; Chinese errors naming the fields."""
    fen, yuan_text = q.get("declared_amount_fen"), q.get("declared_amount")
    amount: Any = fen
    if fen is None and yuan_text is not None:
        try:
            amount = fen_from_yuan(yuan_text)
        except ValueError:
            amount = "invalid"
    raw = {
        "unit_batch_no": q.get("unit_batch_no"),
        "program_code": q.get("program_code"),
        "period": q.get("period"),
        "declared": {"record_count": q.get("declared_count"), "amount_fen": amount},
    }
    try:
        return BatchMetaIn.model_validate({k: v for k, v in raw.items() if v is not None})
    except ValidationError as exc:
        names = {
            "unit_batch_no": "批次号 unit_batch_no",
            "program_code": "补贴项目 program_code",
            "period": "发放期间 period（YYYY、YYYY-MM 或 YYYY-Qn）",
            "record_count": "申报笔数 declared_count",
            "amount_fen": "申报金额 declared_amount_fen（分）或 declared_amount（元）",
        }
        fields = sorted({str(e["loc"][-1]) for e in exc.errors()})
        raise BatchMetaInvalid(
            "批次信息缺失或格式不正确：" + "、".join(names.get(f, f) for f in fields),
            fields=fields,
        ) from None


async def check_submitter(session: AsyncSession, actor: Actor, program_code: str) -> Any:
    """May `actor` submit a batch of this program? Returns the program (checked before any upload)."""
    require(actor, *UNIT_ROLES)
    prog = await repo.program(session, program_code)
    if prog is None:
        raise UnknownProgram(f"补贴项目 {program_code} 不存在")
    if actor.role == Role.DEPARTMENT and prog.department_code != actor.org_code:
        raise OutOfScope("只能提交本部门主管的补贴项目")
    return prog


def program_standard_fen(program: Any) -> int | None:
    """The program's standard per unit of quantity, in fen (None = the program is not paid per
    unit: then records must give their amount)."""
    standard = getattr(program, "standard", None) or {}
    if standard.get("kind") != "per_unit":
        return None
    return int(standard["amount_fen_per_unit"])


class AmountUnresolved(ValueError):
    """A record's amount cannot be settled; `code` and `message` say why."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def amount_of(amount_fen: int | None, quantity: Decimal | None, standard_fen: int | None) -> int:
    """The amount of a record: as given, or quantity × the program standard (rounded half up to
    the fen); when both are given and a standard exists they must agree."""
    computed = None
    if quantity is not None and standard_fen is not None:
        computed = int((quantity * standard_fen).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    if amount_fen is not None:
        if computed is not None and computed != amount_fen:
            raise AmountUnresolved(
                "AMOUNT_QUANTITY_MISMATCH",
                f"金额 {yuan(amount_fen)} 元与数量×补贴标准 {yuan(computed)} 元不符",
            )
        return amount_fen
    if quantity is None:
        raise AmountUnresolved("AMOUNT_MISSING", "金额和数量至少填写一项")
    if computed is None:
        raise AmountUnresolved("STANDARD_MISSING", "补贴项目未设置补贴标准，无法按数量计算金额，请填写金额")
    return computed


async def submit(session: AsyncSession, actor: Actor, sub: Submission, cipher: PiiCipher) -> dict[str, Any]:
    """Accept a batch whole or not at all, then send it to validation as chunks."""
    from . import service  # the views live with the other use cases

    prog = await check_submitter(session, actor, sub.meta.program_code)
    unit, meta = actor.org_code, sub.meta
    digest = content_hash(
        {
            "program_code": meta.program_code,
            "period": meta.period,
            "declared": meta.declared.model_dump(),
            "file_sha256": sub.file_sha256,
        }
    )
    batch_id = str(uuid.uuid4())
    claimed = await repo.claim_batch(
        session,
        {
            "batch_id": batch_id,
            "unit_code": unit,
            "unit_batch_no": meta.unit_batch_no,
            "content_hash": digest,
            "program_code": meta.program_code,
            "period": meta.period,
            "status": BatchStatus.SUBMITTED,
            "current_round": 1,
            "declared_count": meta.declared.record_count,
            "declared_amount_fen": meta.declared.amount_fen,
            "file_sha256": sub.file_sha256,
            "file_format": sub.file_format,
            "file_name": sub.file_name,
            "file_bytes": sub.file_bytes,
            "created_by": actor.user_id,
        },
    )
    if not claimed:
        return await _answer_taken(session, actor, sub, digest)
    await repo.add_history(session, batch_id, BatchStatus.SUBMITTED, from_status=None, round_=1)

    checker = _RowChecker(
        sub.rows(),
        batch_id=batch_id,
        town_only=unit if actor.role == Role.TOWN else None,
        towns=await repo.division_codes(session),
        banks=await repo.bank_codes(session),
        aliases=await repo.code_by_name(session),
        standard_fen=program_standard_fen(prog),
        cipher=cipher,
    )
    started = time.perf_counter()
    await _store(session, checker)
    stored = time.perf_counter()
    if checker.error_count:
        raise InvalidRecords(
            f"共{checker.error_count}处错误，整批未接收",
            errors=[e.as_dict() for e in checker.errors],
            error_count=checker.error_count,
            truncated=checker.error_count > len(checker.errors),
            actual={"record_count": checker.count, "amount_fen": checker.amount},
        )
    if checker.count == 0:
        raise NoRecords("文件中没有发放记录（除列名行外为空）")
    check_totals(meta.declared.record_count, meta.declared.amount_fen, checker.count, checker.amount)

    await emit_round(
        session,
        batch_id=batch_id,
        unit=unit,
        unit_batch_no=meta.unit_batch_no,
        program_code=meta.program_code,
        period=meta.period,
        round_=1,
        reissue_of=None,
        cipher=cipher,
        totals=(checker.count, checker.amount),
    )
    await repo.set_batch(session, batch_id, status=BatchStatus.VALIDATING)
    log.info(
        "batch taken in",
        extra={
            "batch_id": batch_id,
            "records": checker.count,
            "format": sub.file_format,
            "store_s": round(stored - started, 2),
            "emit_s": round(time.perf_counter() - stored, 2),
        },
    )
    RECORDS.labels(SERVICE, "intake", "accepted").inc(checker.count)
    AMOUNT_FEN.labels(SERVICE, "intake", "accepted").inc(checker.amount)
    return {**await service.batch_view(session, actor, batch_id), "duplicate": False}


async def _answer_taken(session: AsyncSession, actor: Actor, sub: Submission, digest: str) -> dict[str, Any]:
    """The batch number or the file is taken: the same submission again, or a refusal."""
    from . import service

    no = sub.meta.unit_batch_no
    existing = await repo.batch_by_unit_no(session, actor.org_code, no)
    if existing is not None:
        if existing.content_hash == digest:
            return {**await service.batch_view(session, actor, existing.batch_id), "duplicate": True}
        raise BatchNumberConflict(
            f"批次号 {no} 已使用且内容不同，请使用新的批次号",
            unit_batch_no=no,
            batch_id=existing.batch_id,
        )
    same = await repo.batch_by_unit_file(session, actor.org_code, sub.file_sha256)
    if same is not None:
        raise DuplicateFile(
            f"相同内容的文件已以批次号 {same.unit_batch_no} 提交（批次 {same.batch_id}），不能以批次号 {no} 重复提交",
            unit_batch_no=same.unit_batch_no,
            batch_id=same.batch_id,
        )
    # Only if the winner's row vanished between the two statements (it cannot: it committed).
    raise Conflict("批次正由另一请求提交，请稍后查询", code="BATCH_SUBMISSION_RACE")


# ------------------------------------------------------------------ storing: check, price, encrypt, COPY

_COPY_ESCAPE = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_FIELDS = ("id_number", "name", "account_no", "bank_code", "amount_fen", "quantity", "town_code", "village")
_HINTS = {
    "id_number": "应为15至18位数字或字母",
    "name": "应为1至40个字",
    "account_no": "应为6至32位数字、字母或“-”",
    "bank_code": "应为代码（字母、数字，最长32位）",
    "town_code": "应为代码（字母、数字，最长32位）",
    "amount_fen": "应为不小于0的整数（分）",
    "quantity": "应为大于0的数字，最多4位小数",
    "village": "最长40个字",
}


def uuid7() -> str:
    """A time-ordered UUID (RFC 9562 v7): records of one batch land next to each other in the index."""
    ms = time.time_ns() // 1_000_000
    rnd = int.from_bytes(os.urandom(10), "big")
    value = (ms << 80) | (0x7 << 76) | (((rnd >> 62) & 0xFFF) << 64) | (0b10 << 62) | (rnd & ((1 << 62) - 1))
    return str(uuid.UUID(int=value))


class _RowChecker:
    """Turns rows into COPY text for batch_records, counting totals and collecting row errors.

    Runs in a worker thread, one slice at a time (never two at once)."""

    def __init__(
        self,
        rows: RowSource,
        *,
        batch_id: str,
        town_only: str | None,
        towns: set[str],
        banks: set[str],
        standard_fen: int | None,
        cipher: PiiCipher,
        aliases: dict[str, dict[str, str]] | None = None,
    ) -> None:
        self.rows = rows
        self.batch_id = batch_id
        self.town_only = town_only
        self.towns = towns
        self.banks = banks
        # clerks write 新山村街道 or 重庆农村商业银行 as often as the codes
        self.town_by_name = (aliases or {}).get("town", {})
        self.bank_by_name = (aliases or {}).get("bank", {})
        self.standard_fen = standard_fen
        self.cipher = cipher
        self.count = 0
        self.amount = 0
        self.errors: list[RowError] = []
        self.error_count = 0

    def _error(self, e: RowError) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_ROW_ERRORS:
            self.errors.append(e)

    def take(self, limit: int) -> tuple[bytes, bool]:
        """The next `limit` rows as COPY text (empty once any row failed); True when the rows ran out."""
        lines: list[str] = []
        for _ in range(limit):
            item = next(self.rows, None)
            if item is None:
                return "".join(lines).encode(), True
            self.count += 1
            if isinstance(item, RowError):
                self._error(item)
                continue
            line = self._line(item)
            if line is not None and not self.error_count:
                lines.append(line)
        return "".join(lines).encode(), False

    def _line(self, r: IntakeRow) -> str | None:
        n = r.row
        data = {k: v for k in _FIELDS if (v := getattr(r, k)) is not None}
        if "town_code" in data:
            data["town_code"] = self.town_by_name.get(data["town_code"], data["town_code"])
        if "bank_code" in data:
            data["bank_code"] = self.bank_by_name.get(data["bank_code"], data["bank_code"])
        try:
            rec = RecordIn.model_validate(data)
        except ValidationError as exc:
            for e in exc.errors():
                f = str(e["loc"][0]) if e["loc"] else ""
                label = LABELS.get(f, f)
                if e["type"] == "missing":
                    self._error(RowError(n, f, "FIELD_MISSING", f"第{n}行：缺少{label}"))
                else:
                    hint = _HINTS.get(f, "")
                    self._error(RowError(n, f, "FIELD_INVALID", f"第{n}行：{label}格式不正确，{hint}"))
            if r.amount_fen is not None:
                self.amount += r.amount_fen
            return None
        ok = True
        for f, v in (("name", rec.name), ("village", rec.village)):
            if _CONTROL.search(v):
                self._error(RowError(n, f, "FIELD_INVALID", f"第{n}行：{LABELS[f]}含有不可见的控制字符"))
                ok = False
        if self.town_only is not None and rec.town_code != self.town_only:
            self._error(RowError(n, "town_code", "TOWN_NOT_YOURS", f"第{n}行：只能提交本镇街对象的发放数据"))
            ok = False
        elif rec.town_code not in self.towns:
            self._error(RowError(n, "town_code", "TOWN_UNKNOWN", f"第{n}行：镇街代码 {rec.town_code} 不存在"))
            ok = False
        if rec.bank_code not in self.banks:
            self._error(RowError(n, "bank_code", "BANK_UNKNOWN", f"第{n}行：代发银行 {rec.bank_code} 不存在"))
            ok = False
        try:
            amount = amount_of(rec.amount_fen, rec.quantity, self.standard_fen)
        except AmountUnresolved as exc:
            field_ = "quantity" if exc.code == "STANDARD_MISSING" else "amount_fen"
            self._error(RowError(n, field_, exc.code, f"第{n}行：{exc.message}"))
            return None
        self.amount += amount
        if not ok or self.error_count:
            return None
        c = self.cipher
        id_number = rec.id_number.upper()
        return (
            "\t".join(
                (
                    uuid7(),
                    self.batch_id,
                    str(self.count),
                    c.blind_index(id_number),
                    rec.name.translate(_COPY_ESCAPE),
                    "\\\\x" + c.encrypt(id_number).hex(),
                    "\\\\x" + c.encrypt(rec.account_no).hex(),
                    rec.account_no[-4:],
                    rec.bank_code,
                    str(amount),
                    str(rec.quantity) if rec.quantity is not None else "\\N",
                    rec.town_code,
                    rec.village.translate(_COPY_ESCAPE),
                    "1",
                    RecordStatus.SUBMITTED.value,
                )
            )
            + "\n"
        )


async def _store(session: AsyncSession, checker: _RowChecker) -> None:
    """Run the checker over every row; COPY each slice while the worker prepares the next."""
    copying: asyncio.Task[None] | None = None
    try:
        while True:
            data, done = await asyncio.to_thread(checker.take, COPY_ROWS)
            if copying is not None:
                await copying
                copying = None
            if data and not checker.error_count:
                copying = asyncio.create_task(repo.copy_records(session, data))
            if done:
                break
    finally:
        if copying is not None:
            await copying


# ------------------------------------------------------------------ emitting a round as chunks


def program_rules(program: Any) -> ProgramRules | None:
    """What validation checks of a program (standard, registers, exclusions), from its catalogue
    row; None when the program is unknown (then validation applies only the general rules)."""
    if program is None:
        return None
    return ProgramRules(
        code=program.code,
        frequency=program.frequency,
        standard=program.standard or None,
        requires_registers=list(program.requires_registers or []),
        excludes_registers=list(program.excludes_registers or []),
        exclusive_with=list(program.exclusive_with or []),
    )


class _ChunkBuilder:
    """Builds the outbox rows of a round's chunks from pages of stored records (worker thread)."""

    def __init__(self, base: dict[str, Any], count: int, cipher: PiiCipher) -> None:
        self.base = base
        self.count = count
        self.cipher = cipher
        self.index = 0

    def build(self, rows: list[Any]) -> list[dict[str, Any]]:
        dec = self.cipher.decrypt
        records = [
            PaymentRecord(
                record_id=r.record_id,
                seq=r.seq,
                person_key=r.person_key,
                id_number=dec(r.id_number_enc),
                name=r.name,
                account_no=dec(r.account_no_enc),
                bank_code=r.bank_code,
                amount_fen=r.amount_fen,
                quantity=r.quantity,
                town_code=r.town_code,
                village=r.village,
                reissue_of_record_id=r.reissue_of_record_id,
            )
            for r in rows
        ]
        payloads = []
        for i in range(0, max(1, len(records)), MAX_RECORDS_PER_CHUNK):
            part = records[i : i + MAX_RECORDS_PER_CHUNK]
            totals = Totals(record_count=len(part), amount_fen=sum(r.amount_fen for r in part))
            payloads.append(
                BatchSubmittedV1(
                    **self.base,
                    chunk=ChunkInfo(index=self.index, count=self.count, totals=totals),
                    records=part,
                )
            )
            self.index += 1
        return outbox_rows(payloads, producer=SERVICE, correlation_id=self.base["batch_id"])


async def emit_round(
    session: AsyncSession,
    *,
    batch_id: str,
    unit: str,
    unit_batch_no: str,
    program_code: str,
    period: str,
    round_: int,
    reissue_of: str | None,
    cipher: PiiCipher,
    totals: tuple[int, int] | None = None,
) -> int:
    """Write a round's `batch.submitted` chunks (≤100 records each) to the outbox, reading the
    round's records from the database in seq order, a page at a time; returns the chunk count."""
    n, amount = totals if totals is not None else await repo.round_totals(session, batch_id, round_)
    count = max(1, -(-n // MAX_RECORDS_PER_CHUNK))
    rules = program_rules(await repo.program(session, program_code))  # once per round
    await repo.insert_round(
        session,
        {
            "batch_id": batch_id,
            "round": round_,
            "chunk_count": count,
            "record_count": n,
            "amount_fen": amount,
        },
    )
    builder = _ChunkBuilder(
        {
            "batch_id": batch_id,
            "unit_code": unit,
            "unit_batch_no": unit_batch_no,
            "program_code": program_code,
            "period": period,
            "round": round_,
            "reissue_of_batch_id": reissue_of,
            "round_totals": Totals(record_count=n, amount_fen=amount),
            "program": rules,
        },
        count,
        cipher,
    )
    if n == 0:
        await session.execute(sa.insert(OUTBOX), builder.build([]))
        return 1
    async with repo.round_records(session, batch_id, round_) as fetch:
        page = await fetch(EMIT_PAGE)
        ready: list[dict[str, Any]] | None = None
        while page:
            building = asyncio.create_task(asyncio.to_thread(builder.build, page))
            try:
                if ready:
                    await session.execute(sa.insert(OUTBOX), ready)
                page = await fetch(EMIT_PAGE)
            finally:
                ready = await building
        if ready:
            await session.execute(sa.insert(OUTBOX), ready)
    if builder.index != count:
        raise RuntimeError(f"round {round_} of {batch_id}: {builder.index} chunks written, {count} declared")
    return count
