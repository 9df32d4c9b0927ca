"""The one place where the disclosure service masks personal data, and the masking rule of each
channel.

Every row is masked with the safe default when it arrives (names 2 characters → 张*, 3 → 张*丰,
4 or more → first + ** + last; ID numbers first and last character only), and those masked
values are what the public channels show by default. A channel may be configured stricter
(surname only, or hidden); making one looser than the default (full name, or the first six and
last four characters of the ID) needs an audited change through the operator API.

Decision: the full name and ID number are also kept, encrypted with SM4-GCM
(`settings.pii_cipher()`, the record id as associated data), beside the default-masked values.
A stricter rule could be derived from the masked form, but a looser (audited) one cannot, and the
masked form of a 4+-character name has lost its length; keeping the originals encrypted lets
every channel apply its own rule to the true value. They are decrypted only to apply a channel
rule other than the default, never logged and never returned in full. The personal query checks
the name through a keyed blind index (`name_key`), not by decrypting.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from ykt_contracts import SettledRecord
from ykt_kit.crypto import PiiCipher
from ykt_kit.masking import mask_id, mask_name


class Channel(StrEnum):
    """Where masked values are shown."""

    WEB = "web"  # the public web pages
    API = "api"  # the JSON API of kiosks and WeChat mini-programs
    PRINT = "print"  # the PDF notice pinned on a village board
    PERSONAL = "personal"  # the personal query (a person's own payments)


CHANNEL_LABELS = {
    Channel.WEB: "公示网页",
    Channel.API: "自助终端和小程序接口",
    Channel.PRINT: "纸质公告（PDF）",
    Channel.PERSONAL: "个人查询",
}


class NameRule(StrEnum):
    """How a name is shown, from strictest to loosest."""

    HIDDEN = "hidden"  # ***
    SURNAME = "surname"  # 张**
    DEFAULT = "default"  # 张*  张*丰  欧**娜
    FULL = "full"  # 张三丰 (looser than the default: audited change only)


class IdRule(StrEnum):
    """How an ID number is shown, from strictest to loosest."""

    HIDDEN = "hidden"  # ******************
    DEFAULT = "default"  # 5****************2
    REGION_LAST4 = "region_last4"  # 500104********1234 (looser than the default: audited change only)


_NAME_REVEAL = {NameRule.HIDDEN: 0, NameRule.SURNAME: 1, NameRule.DEFAULT: 2, NameRule.FULL: 3}
_ID_REVEAL = {IdRule.HIDDEN: 0, IdRule.DEFAULT: 1, IdRule.REGION_LAST4: 2}


@dataclass(frozen=True)
class MaskingRule:
    """The masking of names and ID numbers on one channel."""

    name: NameRule = NameRule.DEFAULT
    id: IdRule = IdRule.DEFAULT

    @property
    def is_default(self) -> bool:
        return self.name is NameRule.DEFAULT and self.id is IdRule.DEFAULT

    @property
    def looser_than_default(self) -> bool:
        """True when either part shows more than the safe default."""
        return (
            _NAME_REVEAL[self.name] > _NAME_REVEAL[NameRule.DEFAULT]
            or _ID_REVEAL[self.id] > _ID_REVEAL[IdRule.DEFAULT]
        )

    def loosens(self, other: MaskingRule) -> bool:
        """True when this rule shows more than `other` in either part."""
        return (
            _NAME_REVEAL[self.name] > _NAME_REVEAL[other.name] or _ID_REVEAL[self.id] > _ID_REVEAL[other.id]
        )

    def mask_name(self, name: str) -> str:
        return _apply_name(self.name, name)

    def mask_id(self, id_number: str) -> str:
        return _apply_id(self.id, id_number)


DEFAULT_RULE = MaskingRule()


def _apply_name(rule: NameRule, name: str) -> str:
    chars = list(name.strip())
    if rule is NameRule.HIDDEN or not chars:
        return "***"
    if rule is NameRule.SURNAME:
        return chars[0] + "**"
    if rule is NameRule.FULL:
        return "".join(chars)
    return mask_name(name)


def _apply_id(rule: IdRule, id_number: str) -> str:
    s = id_number.strip()
    if rule is IdRule.HIDDEN:
        return "*" * 18
    if rule is IdRule.REGION_LAST4 and len(s) > 10:
        return s[:6] + "*" * (len(s) - 10) + s[-4:]
    return mask_id(s)


def masked_name(name: str) -> str:
    """2 chars → 张*, 3 → 张*丰, 4 or more → first + ** + last (characters, not UTF-16 units)."""
    return mask_name(name)


def masked_id(id_number: str) -> str:
    """First and last character only: 5****************2."""
    return mask_id(id_number)


_NAME_DOTS = re.compile(r"[•∙⋅・．.]")


def normalised_name(name: str) -> str:
    """A name as compared by the personal query: NFKC, no spaces, one kind of middle dot
    (minority names are written 阿卜杜·热合曼 with any of several dots)."""
    s = unicodedata.normalize("NFKC", name)
    s = "".join(ch for ch in s if not ch.isspace())
    return _NAME_DOTS.sub("·", s)


def name_key(cipher: PiiCipher, name: str) -> str:
    """Keyed blind index of a name, to check the name given to the personal query."""
    return cipher.blind_index(normalised_name(name), purpose="disclosure-name")


def _aad(kind: str, record_id: str) -> bytes:
    return f"ykt-disclosure:{kind}:{record_id}".encode()


def encrypt_originals(cipher: PiiCipher, record_id: str, name: str, id_number: str) -> tuple[bytes, bytes]:
    """The full name and ID number, encrypted (SM4-GCM) and bound to the record id."""
    return (
        cipher.encrypt(name.strip(), context=_aad("name", record_id)),
        cipher.encrypt(id_number.strip(), context=_aad("id", record_id)),
    )


@dataclass(frozen=True)
class StoredMasks:
    """What a channel needs to show one row: the default masks and the encrypted originals."""

    record_id: str
    name_masked: str
    id_masked: str
    name_enc: bytes | None
    id_enc: bytes | None


def for_channel(cipher: PiiCipher, rule: MaskingRule, row: StoredMasks) -> tuple[str, str]:
    """(name, ID) as `rule` shows them. The default rule reads the stored masks; any other rule
    decrypts the originals (rows held before they were kept fall back to hiding what cannot be
    derived from the masks: a looser rule shows the default there, a stricter one still hides)."""
    if rule.is_default:
        return row.name_masked, row.id_masked
    if row.name_enc is None or row.id_enc is None:
        name = (
            row.name_masked
            if rule.name in (NameRule.DEFAULT, NameRule.FULL)
            else _apply_name(rule.name, row.name_masked)
        )
        id_ = (
            row.id_masked
            if rule.id in (IdRule.DEFAULT, IdRule.REGION_LAST4)
            else _apply_id(rule.id, row.id_masked)
        )
        return name, id_
    name = cipher.decrypt(row.name_enc, context=_aad("name", row.record_id))
    id_number = cipher.decrypt(row.id_enc, context=_aad("id", row.record_id))
    return rule.mask_name(name), rule.mask_id(id_number)


@dataclass(frozen=True)
class DisclosedRow:
    """A settled record as held for publication: masked with the default rule, the originals
    only encrypted, without account."""

    record_id: str
    batch_id: str
    program_code: str
    period: str
    town_code: str
    village: str
    name_masked: str
    id_masked: str
    amount_fen: int
    settled_on: date
    person_key: str
    name_key: str
    name_enc: bytes
    id_enc: bytes

    def as_row(self) -> dict[str, object]:
        return {
            "record_id": self.record_id,
            "batch_id": self.batch_id,
            "program_code": self.program_code,
            "period": self.period,
            "town_code": self.town_code,
            "village": self.village,
            "name_masked": self.name_masked,
            "id_masked": self.id_masked,
            "amount_fen": self.amount_fen,
            "settled_on": self.settled_on,
            "person_key": self.person_key,
            "name_key": self.name_key,
            "name_enc": self.name_enc,
            "id_enc": self.id_enc,
        }


def disclose(batch_id: str, record: SettledRecord, cipher: PiiCipher) -> DisclosedRow:
    """Mask one settled record for publication; the returned row holds nothing in clear."""
    name_enc, id_enc = encrypt_originals(cipher, record.record_id, record.name, record.id_number)
    return DisclosedRow(
        record_id=record.record_id,
        batch_id=batch_id,
        program_code=record.program_code,
        period=record.period,
        town_code=record.town_code,
        village=record.village.strip(),
        name_masked=masked_name(record.name),
        id_masked=masked_id(record.id_number),
        amount_fen=record.amount_fen,
        settled_on=record.settled_on,
        person_key=record.person_key,
        name_key=name_key(cipher, record.name),
        name_enc=name_enc,
        id_enc=id_enc,
    )
