"""Personal data at rest: SM4-GCM encryption and a keyed blind index (HMAC-SM3) for look-ups.

Keys come from configuration (hex), never from code; see `PiiCipher.from_hex`."""

from __future__ import annotations

import hashlib
import hmac
import os

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as chmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

_NONCE = 12
_TAG = 16


class PiiCipher:
    """Encrypts personal fields with SM4-GCM and derives blind indexes with HMAC-SM3."""

    def __init__(self, enc_key: bytes, index_key: bytes) -> None:
        if len(enc_key) != 16:
            raise ValueError("SM4 key must be 16 bytes")
        if len(index_key) < 16:
            raise ValueError("blind-index key must be at least 16 bytes")
        self._enc_key = enc_key
        self._index_key = index_key

    @classmethod
    def from_hex(cls, enc_key_hex: str, index_key_hex: str) -> PiiCipher:
        return cls(bytes.fromhex(enc_key_hex), bytes.fromhex(index_key_hex))

    def encrypt(self, plaintext: str, *, context: bytes = b"") -> bytes:
        nonce = os.urandom(_NONCE)
        enc = Cipher(algorithms.SM4(self._enc_key), modes.GCM(nonce)).encryptor()
        enc.authenticate_additional_data(context)
        body = enc.update(plaintext.encode()) + enc.finalize()
        return nonce + body + enc.tag

    def decrypt(self, blob: bytes, *, context: bytes = b"") -> str:
        nonce, body, tag = blob[:_NONCE], blob[_NONCE:-_TAG], blob[-_TAG:]
        dec = Cipher(algorithms.SM4(self._enc_key), modes.GCM(nonce, tag)).decryptor()
        dec.authenticate_additional_data(context)
        return (dec.update(body) + dec.finalize()).decode()

    def blind_index(self, value: str, *, purpose: str = "id") -> str:
        """Deterministic keyed digest (hex) of a normalised value, for equality look-ups."""
        h = chmac.HMAC(self._index_key, hashes.SM3())
        h.update(purpose.encode() + b"\x00" + value.strip().upper().encode())
        return h.finalize().hex()


def constant_time_equal(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
