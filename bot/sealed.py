"""Sealed boxes: small values stored so that only the running bot, holding the key, can read them.

Where Breakroom must keep something about an anonymous author or voter that a keyed hash can't
carry — which author a pending reflection has (to count distinct authors), what an anonymous
voter picked (to move or remove their vote), which posted reflection `/forget-me` will remove —
it stores it sealed with AES-256-GCM under a key derived from the bot's secret, with a fresh
random nonce each time. Two boxes of the same value share no bytes, so a copy of the database
(without the key) can't tell that two rows hold the same author or the same option.

AES-GCM comes from `cryptography` (pyca), not from hand-written code.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

NONCE_SIZE = 12
TAG_SIZE = 16


class Sealer:
    """Seal and open small values under a key derived from the bot's secret for one purpose."""

    __slots__ = ("_aead",)

    def __init__(self, key: bytes, purpose: str) -> None:
        if not key:
            raise ValueError("sealing needs the bot's key")
        derived = hmac.new(key, f"breakroom:seal:{purpose}".encode(), hashlib.sha256).digest()
        # Imported here, on first use: cryptography costs ~8 MiB that a bot with no anonymous
        # poll or reflection yet has no need of.
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        self._aead: AESGCM = AESGCM(derived)

    def seal(self, value: bytes, context: bytes = b"") -> bytes:
        """`value` sealed with a fresh nonce; `context` (e.g. the row's key) is bound to it, so a
        box copied into another row does not open."""
        nonce = os.urandom(NONCE_SIZE)
        return nonce + self._aead.encrypt(nonce, value, context)

    def open(self, box: bytes, context: bytes = b"") -> bytes | None:
        """The sealed value, or None when the box was sealed under another key (or damaged)."""
        from cryptography.exceptions import InvalidTag

        if len(box) < NONCE_SIZE + TAG_SIZE:
            return None
        try:
            return self._aead.decrypt(box[:NONCE_SIZE], box[NONCE_SIZE:], context)
        except InvalidTag:
            return None
