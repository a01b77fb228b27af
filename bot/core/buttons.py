"""Buttons that act only for the person they were shown to.

Every button action the core sends is signed for the user it was made for: "<action>~<mac>",
where mac is a short HMAC-SHA256 of platform, user id and action under a key from settings.
A press is checked against the presser's own id, so a button shown to A does nothing when B
presses it (in a group, say), and a forged or hand-made payload does nothing at all. Nine
characters keep every action inside Telegram's 64-byte callback data.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import replace
from enum import Enum

from bot.core.ports import UserKey
from bot.core.types import Button, Reply

SEP = "~"
MAC_BYTES = 6  # 48 bits: a forger gets one try per press, and there is nothing to grind on


class Check(Enum):
    OK = "ok"
    NOT_YOURS = "not_yours"  # signed, but for someone else (or tampered with)
    UNSIGNED = "unsigned"  # no signature: made by hand, or by a version before signing


class ButtonSigner:
    def __init__(self, key: bytes | None = None) -> None:
        # Without a configured key (the console, tests), buttons live as long as the process.
        self._key = key or secrets.token_bytes(32)

    def _mac(self, who: UserKey, action: str) -> str:
        msg = f"{who.platform}\x00{who.user_id}\x00{action}".encode()
        digest = hmac.new(self._key, msg, hashlib.sha256).digest()[:MAC_BYTES]
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def sign(self, who: UserKey, action: str) -> str:
        return f"{action}{SEP}{self._mac(who, action)}"

    def check(self, who: UserKey, data: str) -> tuple[Check, str]:
        """(outcome, the action without its signature)."""
        action, sep, mac = data.rpartition(SEP)
        if not sep:
            return Check.UNSIGNED, data
        if hmac.compare_digest(mac, self._mac(who, action)):
            return Check.OK, action
        return Check.NOT_YOURS, action

    def sign_replies(self, who: UserKey, replies: list[Reply]) -> list[Reply]:
        return [
            replace(r, buttons=tuple(Button(b.label, self.sign(who, b.action)) for b in r.buttons))
            if r.buttons
            else r
            for r in replies
        ]
