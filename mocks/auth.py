"""Credentials as the service's security schemes define them.

- `basicAuth`: `Authorization: Basic base64(project_id:api_key)`; a merchant id
  may stand in for the project id. Missing or malformed: 401 (errorCode 1020).
  Credentials of another project than the path's: 403. With a configured API key
  only that key is accepted; without one any non-empty key is (development mode).
- `XsollaLoginUserJWT`: `Authorization: Bearer <JWT>`. `sub` is the user, `exp`
  is enforced (against real time), an HS256 signature is verified when a secret
  is configured, and the documentation's public test token is always accepted.
  User attributes for personalization come from the `attributes` claim.
- `AuthForCart`: the JWT, or guest mode with `x-unauthorized-id` and `x-user`
  (the user's email, Base64).
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import json
import math
import re
import time
from dataclasses import dataclass, field
from typing import Any

from ..toolkit import strict_json
from ..toolkit._json import copy_value

DEV_JWT_SECRET = "xsolla-contract-dev-secret"

# The public test token of the Xsolla API reference (user d342dad2-..., valid until 2032).
DOCS_TEST_TOKEN = (
    "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJleHAiOjE5NjIyMzQwNDgsImlzcyI6Imh0dHBzOi8vbG9naW4ueHNvbGxhLmNvbSIsImlh"
    "dCI6MTU2MjE0NzY0OCwidXNlcm5hbWUiOiJ4c29sbGEiLCJ4c29sbGFfbG9naW5fYWNjZXNzX2tleSI6IjA2SWF2ZHpDeEVHbm5aMTlpLUc5"
    "TmMxVWFfTWFZOXhTR3ZEVEY4OFE3RnMiLCJzdWIiOiJkMzQyZGFkMi05ZDU5LTExZTktYTM4NC00MjAxMGFhODAwM2YiLCJlbWFpbCI6InN1"
    "cHBvcnRAeHNvbGxhLmNvbSIsInR5cGUiOiJ4c29sbGFfbG9naW4iLCJ4c29sbGFfbG9naW5fcHJvamVjdF9pZCI6ImU2ZGZhYWM2LTc4YTgt"
    "MTFlOS05MjQ0LTQyMDEwYWE4MDAwNCIsInB1Ymxpc2hlcl9pZCI6MTU5MjR9.GCrW42OguZbLZTaoixCZgAeNLGH2xCeJHxl8u8Xn2aI"
)


_PROJECT_ID = re.compile(r"[1-9][0-9]{0,17}")  # ASCII digits, no leading zero, within a 64-bit integer


def parse_project_id(text: str | None) -> int | None:
    """A project (or merchant) id as the service writes it, else None: `٤٤٠٥٦` or `044056` name no project."""
    return int(text) if text and _PROJECT_ID.fullmatch(text) else None


class AuthError(Exception):
    """Authentication failed: `status` 401 or 403, with the service's errorCode."""

    def __init__(self, status: int, code: int, message: str):
        self.status, self.code, self.message = status, code, message
        super().__init__(message)


@dataclass(frozen=True)
class Principal:
    kind: str  # admin | user | guest | anonymous
    project_id: int | None = None
    user_id: str | None = None
    email: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    claims: dict[str, Any] = field(default_factory=dict)

    @property
    def is_user(self) -> bool:
        return self.kind in ("user", "guest")


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def mint_token(
    user: str,
    *,
    project: int | None = None,
    attributes: dict[str, Any] | None = None,
    ttl: int = 30 * 24 * 3600,
    secret: str | None = None,
    email: str | None = None,
    now: float | None = None,
) -> str:
    """A user JWT (HS256) the mock accepts, signed with `secret` (the mock's default when None)."""
    issued = int(now if now is not None else time.time())
    claims: dict[str, Any] = {
        "iss": "https://login.xsolla.com",
        "sub": user,
        "iat": issued,
        "exp": issued + int(ttl),
        "type": "xsolla_login",
        "email": email or f"{user}@example.com",
    }
    if project is not None:
        claims["publisher_project_id"] = int(project)
    if attributes:
        claims["attributes"] = dict(attributes)
    header = _b64url(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    payload = _b64url(json.dumps(claims, separators=(",", ":")).encode())
    signing_input = f"{header}.{payload}".encode()
    signature = hmac.new((secret or DEV_JWT_SECRET).encode(), signing_input, hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64url(signature)}"


def decode_token(token: str, *, secret: str | None = None, now: float | None = None) -> dict[str, Any]:
    """Claims of a user JWT, or AuthError(401) saying why it is refused."""
    claims = copy_value(_verified_claims(token, secret))  # the caller's own copy
    if claims["exp"] < (now if now is not None else time.time()):
        raise AuthError(401, 1501, "[0401-1501]: Authorization failed: the token has expired")
    return claims


@functools.lru_cache(maxsize=1024)
def _verified_claims(token: str, secret: str | None) -> dict[str, Any]:
    """The claims of a well-formed token signed with `secret`, with a subject and a finite expiry;
    a function of the token and the secret alone, so the last ones verified are remembered (a
    client sends the same token with every request). Whether it has expired is `decode_token`'s."""
    parts = token.split(".")
    if len(parts) != 3:
        raise AuthError(401, 1501, "[0401-1501]: Authorization failed: the token is not a JWT")
    try:
        header = strict_json.loads(_unb64url(parts[0]))
        claims = strict_json.loads(_unb64url(parts[1]))
    except (ValueError, binascii.Error, UnicodeDecodeError):  # strict_json.JsonRefused is a ValueError
        raise AuthError(401, 1501, "[0401-1501]: Authorization failed: the token is not a JWT") from None
    if not isinstance(claims, dict) or not isinstance(header, dict):
        raise AuthError(401, 1501, "[0401-1501]: Authorization failed: the token is not a JWT")
    if token != DOCS_TEST_TOKEN and secret:
        if header.get("alg") != "HS256":
            raise AuthError(401, 1501, "[0401-1501]: Authorization failed: only HS256 tokens are accepted")
        expected = hmac.new(secret.encode(), f"{parts[0]}.{parts[1]}".encode(), hashlib.sha256).digest()
        try:
            given = _unb64url(parts[2])
        except (ValueError, binascii.Error):
            given = b""
        if not hmac.compare_digest(expected, given):
            raise AuthError(401, 1501, "[0401-1501]: Authorization failed: invalid token signature")
    if not isinstance(claims.get("sub"), str) or not claims["sub"]:
        raise AuthError(401, 1501, "[0401-1501]: Authorization failed: the token has no subject")
    exp = claims.get("exp")
    if isinstance(exp, bool) or not isinstance(exp, (int, float)) or not math.isfinite(exp):
        raise AuthError(401, 1501, "[0401-1501]: Authorization failed: the token has no valid expiry (exp)")
    return claims


@dataclass
class AuthConfig:
    api_key: str | None = None
    jwt_secret: str | None = None
    merchant_id: int = 1000


def _basic(headers: dict[str, str], project_id: int | None, config: AuthConfig) -> Principal:
    auth = headers.get("authorization", "")
    if not auth:
        raise AuthError(
            401, 1020, "[0401-1020]: Error in Authentication method occurred: Authorization header not sent"
        )
    prefix, _, value = auth.partition(" ")
    if prefix.lower() != "basic":
        raise AuthError(401, 1020, "[0401-1020]: Error in Authentication method occurred: expected Basic credentials")
    try:
        ident, sep, key = base64.b64decode(value.strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise AuthError(
            401, 1020, "[0401-1020]: Error in Authentication method occurred: malformed Basic credentials"
        ) from None
    ident_n = parse_project_id(ident)
    if not sep or ident_n is None or not key:
        raise AuthError(
            401, 1020, "[0401-1020]: Error in Authentication method occurred: credentials must be project_id:api_key"
        )
    if config.api_key is not None and not hmac.compare_digest(key.encode(), config.api_key.encode()):
        raise AuthError(401, 1020, "[0401-1020]: Error in Authentication method occurred: wrong API key")
    if project_id is not None and ident_n not in (project_id, config.merchant_id):
        raise AuthError(403, 0, f"Forbidden: these credentials are for project {ident_n}, not project {project_id}")
    return Principal("admin", project_id=project_id if project_id is not None else ident_n)


def _bearer(headers: dict[str, str], config: AuthConfig) -> Principal:
    auth = headers.get("authorization", "")
    if not auth:
        raise AuthError(401, 1501, "[0401-1501]: Authorization failed: Authorization header not sent")
    prefix, _, token = auth.partition(" ")
    if prefix.lower() != "bearer" or not token.strip():
        raise AuthError(401, 1501, "[0401-1501]: Authorization failed: Provide authorization")
    claims = decode_token(token.strip(), secret=config.jwt_secret)
    attrs = claims.get("attributes") if isinstance(claims.get("attributes"), dict) else {}
    return Principal("user", user_id=claims["sub"], email=claims.get("email"), attributes=dict(attrs), claims=claims)


def _guest(headers: dict[str, str]) -> Principal:
    request_id = headers.get("x-unauthorized-id", "").strip()
    encoded = headers.get("x-user", "").strip()
    if not request_id or not encoded:
        raise AuthError(401, 1501, "[0401-1501]: Authorization failed: Authorization header not sent")
    try:
        email = base64.b64decode(encoded, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise AuthError(401, 1501, "[0401-1501]: Authorization failed: x-user must be a Base64 email") from None
    if "@" not in email:
        raise AuthError(401, 1501, "[0401-1501]: Authorization failed: x-user must be a Base64 email")
    return Principal("guest", user_id=f"guest:{email.lower()}", email=email)


_SCHEMES = {
    "basicAuth": lambda h, p, c: _basic(h, p, c),
    "basicMerchantAuth": lambda h, p, c: _basic(h, p, c),
    "XsollaLoginUserJWT": lambda h, p, c: _bearer(h, c),
    "AuthForCart": lambda h, p, c: _bearer(h, c),
    "AuthForCartGuestId": lambda h, p, c: _guest(h),
    "AuthForCartGuestUser": lambda h, p, c: _guest(h),
}


def authenticate(
    security: tuple[dict[str, Any], ...] | None, headers: dict[str, str], project_id: int | None, config: AuthConfig
) -> Principal:
    """The principal of a request under an operation's security alternatives.

    The first alternative whose schemes all accept the request wins. When none
    does, the error of the alternative the request was aiming at is raised (the
    one whose credentials were sent), 403 before 401.
    """
    if not security:
        return Principal("anonymous", project_id=project_id)
    errors: list[AuthError] = []
    anonymous_ok = False
    for requirement in security:
        if not requirement:
            anonymous_ok = True
            continue
        try:
            principals = [_SCHEMES[name](headers, project_id, config) for name in requirement if name in _SCHEMES]
        except AuthError as exc:
            errors.append(exc)
            continue
        if principals:
            return principals[0]
    sent_authorization = bool(headers.get("authorization"))
    if anonymous_ok and not sent_authorization:
        return Principal("anonymous", project_id=project_id)
    forbidden = [e for e in errors if e.status == 403]
    if forbidden:
        raise forbidden[0]
    if sent_authorization:
        relevant = [e for e in errors if "not sent" not in e.message]
        raise (relevant or errors)[0]
    raise errors[0] if errors else AuthError(401, 1501, "[0401-1501]: Authorization failed: Provide authorization")
