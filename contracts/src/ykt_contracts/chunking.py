"""Splitting a batch into numbered chunks with declared totals."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

from .envelope import ChunkInfo, Totals
from .events import MAX_RECORDS_PER_CHUNK

T = TypeVar("T")


def totals_of(items: Sequence[T], amount: Callable[[T], int]) -> Totals:
    """Record count and amount in fen of `items`."""
    return Totals(record_count=len(items), amount_fen=sum(amount(i) for i in items))


def chunked(
    items: Sequence[T], amount: Callable[[T], int], size: int = MAX_RECORDS_PER_CHUNK
) -> Iterator[tuple[ChunkInfo, Sequence[T]]]:
    """Yield `(ChunkInfo, slice)` pairs; an empty sequence still yields one empty chunk."""
    if size < 1 or size > MAX_RECORDS_PER_CHUNK:
        raise ValueError("chunk size out of range")
    count = max(1, -(-len(items) // size))
    for index in range(count):
        part = items[index * size : (index + 1) * size]
        yield ChunkInfo(index=index, count=count, totals=totals_of(part, amount)), part
