"""Secrets the service must read back (a staff member's TOTP secret), sealed at rest.

A TOTP secret cannot be hashed like a password: every sign-in needs it to compute the code.
Kept in clear, a copy of the database (a backup, a replica, a dump handed to a developer)
would let its holder make anyone's codes. Sealed with AES-256-GCM under a key derived from
``BANTIN_SECRET_KEY`` (HKDF-SHA256, RFC 5869, one ``purpose`` per kind of secret), the
database alone is not enough: the key lives in the environment or ``var/secret_key``, not in
a table. The same arrangement as GitLab's ``otp_secret`` (encrypted with ``db_key_base``).

Stored form: ``v1.`` + base64url(12-byte nonce ‖ ciphertext ‖ 16-byte tag), no padding:
a 32-character base32 secret takes 87 characters. The purpose is the GCM associated data
too, so a value sealed for one purpose does not open for another.

Rotating ``BANTIN_SECRET_KEY`` makes sealed values unreadable (:class:`Unreadable`): the
staff concerned are reset by an admin and enrol again (docs/operations.md says so).
"""

from __future__ import annotations

import base64
import binascii
import os
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

VERSION = "v1."
_NONCE_BYTES = 12  # NIST SP 800-38D §8.2: 96-bit random nonces


class Unreadable(Exception):
    """The sealed value does not open with this key (the secret key changed, or the value
    was altered)."""


@lru_cache(maxsize=8)
def _cipher(secret_key: str, purpose: str) -> AESGCM:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"bantin sealed " + purpose.encode())
    return AESGCM(key.derive(secret_key.encode()))


def seal(secret_key: str, purpose: str, plain: str) -> str:
    """``plain`` sealed for ``purpose`` under ``secret_key``: ``v1.<base64url>`` (ASCII)."""
    nonce = os.urandom(_NONCE_BYTES)
    sealed = _cipher(secret_key, purpose).encrypt(nonce, plain.encode(), purpose.encode())
    return VERSION + base64.urlsafe_b64encode(nonce + sealed).rstrip(b"=").decode("ascii")


def is_sealed(stored: str) -> bool:
    """Whether ``stored`` is in the sealed form (else it is a value kept before sealing)."""
    return stored.startswith(VERSION)


def unseal(secret_key: str, purpose: str, stored: str) -> str:
    """The plain value of ``stored``. Unreadable when it is not a sealed value, was sealed
    under another key or purpose, or was altered."""
    if not is_sealed(stored):
        raise Unreadable()
    body = stored[len(VERSION) :]
    try:
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        plain = _cipher(secret_key, purpose).decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], purpose.encode())
    except (InvalidTag, ValueError, binascii.Error) as error:
        raise Unreadable() from error
    return plain.decode()
