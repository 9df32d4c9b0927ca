"""Logs are JSON lines and never carry ID numbers, account numbers or phones."""

from __future__ import annotations

import logging

import orjson
from ykt_kit.logging import JsonFormatter, redact


def test_redact_masks_ids_accounts_and_phones_but_keeps_other_numbers() -> None:
    text = "id 50010419520120001X acct 6228480402564890018 phone 13812345678 batch 2026 amount 65000"
    out = redact(text)
    assert "50010419520120001X" not in out
    assert "6228480402564890018" not in out
    assert "13812345678" not in out
    assert "2026" in out and "65000" in out


def test_formatter_redacts_message_extras_and_exceptions() -> None:
    fmt = JsonFormatter("registry")
    try:
        raise ValueError("bad 500104199806160020")
    except ValueError:
        import sys

        exc_info = sys.exc_info()
    record = logging.LogRecord(
        "x", logging.ERROR, __file__, 1, "person %s", ("500104199806160020",), exc_info
    )
    record.account = "6203191799730496221"
    record.nested = {"phone": ["19464680097"]}
    line = fmt.format(record)
    data = orjson.loads(line)
    assert data["service"] == "registry" and data["level"] == "error"
    for secret in ("500104199806160020", "6203191799730496221", "19464680097"):
        assert secret not in line
    assert data["account"].startswith("[redacted")
