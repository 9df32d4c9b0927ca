"""Page arithmetic for the public lists."""

from __future__ import annotations

from dataclasses import dataclass

PAGE_SIZE = 50


@dataclass(frozen=True)
class Page:
    """One page of a list: its number (1-based, clamped to the last page), size and total."""

    number: int
    size: int
    total_items: int

    @property
    def total_pages(self) -> int:
        return max(1, -(-self.total_items // self.size))

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.total_pages


def page_of(requested: int, total_items: int, size: int = PAGE_SIZE) -> Page:
    """The requested page, or the nearest one that exists."""
    last = max(1, -(-total_items // size))
    return Page(number=min(max(1, requested), last), size=size, total_items=total_items)


def parse_page(raw: str | None) -> int:
    """A page number from a query string, forgiving of junk (the public types URLs by hand)."""
    try:
        return max(1, int(raw or "1"))
    except ValueError:
        return 1
