"""Residence permits of Hong Kong, Macau and Taiwan residents share the GB 11643 checksum."""

from __future__ import annotations

from datetime import date

from ykt_kit import idcard


def test_residence_permit_region_by_its_fixed_prefix() -> None:
    for prefix, region in (("810000", "香港"), ("820000", "澳门"), ("830000", "台湾")):
        number = idcard.make(prefix, date(1988, 2, 29), 12)
        assert idcard.parse(number).residence_permit
        assert idcard.residence_permit_region(number) == region
    assert idcard.residence_permit_region(idcard.make("500104", date(1988, 2, 29), 12)) is None
    assert idcard.residence_permit_region(idcard.make("811234", date(1988, 2, 29), 12)) is None
