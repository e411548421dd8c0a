"""Password hashes, signed session cookies and CSRF tokens; no I/O, no framework.

Passwords use scrypt (memory-hard, in the standard library) with a per-password salt and the
parameters stored beside the hash, so they can be raised later without breaking old hashes.
A session is a small JSON object signed with HMAC-SHA256: the server keeps no session table,
and a cookie edited by the client fails the signature check and is treated as no session.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any

# n=2**14, r=8: 16 MiB and ~50 ms per hash here; slow for an attacker, fine for a login.
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 1 << 14, 8, 1
SESSION_MAX_AGE = 14 * 24 * 3600


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = _scrypt(password, salt, _SCRYPT_N, _SCRYPT_R, _SCRYPT_P)
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    try:
        kind, n, r, p, salt, digest = stored.split("$")
        if kind != "scrypt":
            return False
        got = _scrypt(password, _unb64(salt), int(n), int(r), int(p))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, _unb64(digest))


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, maxmem=64 << 20, dklen=32)


def _b64(b: bytes) -> str:
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def _unb64(s: str) -> bytes:
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


@dataclass(frozen=True)
class SessionData:
    """What the session cookie carries: a random nonce (the CSRF secret) and maybe a user."""

    nonce: str
    user_id: int | None = None
    issued: float = 0.0
    epoch: int = 0  # the user's session_epoch when it was issued

    @classmethod
    def new(cls, user_id: int | None = None, epoch: int = 0) -> SessionData:
        # A fresh nonce at login: a CSRF token seen before login is useless after it.
        return cls(nonce=secrets.token_urlsafe(16), user_id=user_id, issued=time.time(),
                   epoch=epoch)  # fmt: skip


class Signer:
    def __init__(self, key: bytes) -> None:
        self._key = hashlib.sha256(b"judge-session:" + key).digest()
        self._csrf_key = hashlib.sha256(b"judge-csrf:" + key).digest()

    def dumps(self, data: SessionData) -> str:
        fields = {"n": data.nonce, "u": data.user_id, "t": data.issued, "e": data.epoch}
        body = _b64(json.dumps(fields).encode())
        return f"{body}.{self._mac(body)}"

    def loads(self, cookie: str | None) -> SessionData | None:
        if not cookie or "." not in cookie:
            return None
        body, mac = cookie.rsplit(".", 1)
        if not hmac.compare_digest(mac, self._mac(body)):
            return None
        try:
            raw: Any = json.loads(_unb64(body))
            nonce, user_id, issued = raw["n"], raw["u"], float(raw["t"])
            epoch = raw.get("e", 0)
        except (ValueError, KeyError, TypeError, AttributeError):
            return None
        if not isinstance(nonce, str) or not (user_id is None or isinstance(user_id, int)):
            return None
        if not isinstance(epoch, int):
            return None
        if time.time() - issued > SESSION_MAX_AGE:
            return None
        return SessionData(nonce=nonce, user_id=user_id, issued=issued, epoch=epoch)

    def csrf_token(self, data: SessionData) -> str:
        return hmac.new(self._csrf_key, data.nonce.encode(), hashlib.sha256).hexdigest()

    def check_csrf(self, data: SessionData | None, token: str | None) -> bool:
        if data is None or not token:
            return False
        return hmac.compare_digest(token, self.csrf_token(data))

    def _mac(self, body: str) -> str:
        return _b64(hmac.new(self._key, body.encode(), hashlib.sha256).digest())
