"""Throughput of read + check for one file: `bench_parse(path)`.

    python -m ykt_registry.intake.bench make --rows 1000000 --format csv /tmp/pay.csv
    python -m ykt_registry.intake.bench parse /tmp/pay.csv

Run the two steps as separate processes: peak RSS is per process.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from .fixtures import (
    BANK_NAMES,
    BENEFICIARY_HEADER,
    PAYMENT_HEADER,
    TOWN_NAMES,
    beneficiary_rows,
    payment_rows,
)
from .fixtures import write_csv as _write_csv
from .fixtures import write_xlsx as _write_xlsx
from .forms import FormSpec, checker_for
from .readers import open_table


def bench_parse(
    path: Path,
    *,
    form: FormSpec | None = None,
    towns: dict[str, str] | None = None,
    banks: dict[str, str] | None = None,
    rate_yuan: Decimal | None = None,
) -> dict[str, Any]:
    """Open, read and check every row of `path`; rows/s and this process's peak RSS."""
    started = time.perf_counter()
    with open_table(path, path.name, form=form) as table:
        checker = checker_for(
            table.form, towns=towns or TOWN_NAMES, banks=banks or BANK_NAMES, rate_yuan=rate_yuan
        )
        for number, cells in table:
            checker.check(number, cells)
    seconds = time.perf_counter() - started
    s = checker.summary
    return {
        "file": path.name,
        "format": table.format,
        "form": table.form.key,
        "bytes": path.stat().st_size,
        "rows": s.rows,
        "accepted": s.accepted,
        "errors": s.errors,
        "warnings": s.warnings,
        "seconds": round(seconds, 2),
        "rows_per_s": round(s.rows / seconds) if seconds else 0,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def make_file(path: Path, *, rows: int, fmt: str, form: str = "payment", encoding: str = "utf-8-sig") -> Path:
    """A synthetic file of `rows` valid rows, streamed to disk."""
    header, data = (
        (PAYMENT_HEADER, payment_rows(rows))
        if form == "payment"
        else (BENEFICIARY_HEADER, beneficiary_rows(rows))
    )
    if fmt == "xlsx":
        return _write_xlsx(path, header, data)
    return _write_csv(path, header, data, encoding=encoding)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m ykt_registry.intake.bench")
    sub = p.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("make", help="write a synthetic file")
    m.add_argument("path", type=Path)
    m.add_argument("--rows", type=int, default=1_000_000)
    m.add_argument("--format", choices=("csv", "xlsx"), default="csv")
    m.add_argument("--form", choices=("payment", "beneficiary"), default="payment")
    m.add_argument("--encoding", default="utf-8-sig")
    r = sub.add_parser("parse", help="read and check a file, print JSON figures")
    r.add_argument("path", type=Path)
    args = p.parse_args(argv)
    if args.cmd == "make":
        make_file(args.path, rows=args.rows, fmt=args.format, form=args.form, encoding=args.encoding)
        sys.stdout.write(f"{args.path}\n")
    else:
        sys.stdout.write(json.dumps(bench_parse(args.path), ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
