"""Page sizes and page tokens as Google's list methods use them (AIP-158): opaque tokens, bad ones refused."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from gemini_doctor.emulator.errors import ApiError, invalid_argument
from gemini_doctor.emulator.tables import Paging

_KEY = secrets.token_bytes(16)  # per process: a token from another server (or made up) is refused


def page_size(raw: str | None, rules: Paging, field: str = "page_size") -> int:
    """pageSize from a query: unset or 0 is the default, larger than the cap is the cap, negative is refused."""
    if raw is None or raw == "":
        return rules.default_page_size
    try:
        size = int(raw)
    except ValueError:
        raise invalid_argument(f"Invalid value at '{field}' (TYPE_INT32), \"{raw[:40]}\"", [(field, "")]) from None
    if size < 0:
        raise invalid_argument(f"{field} must not be negative.", [(field, "must not be negative")])
    return rules.max_page_size if size > rules.max_page_size else size or rules.default_page_size


def make_token(kind: str, offset: int) -> str:
    body = f"{kind}:{offset}".encode()
    mac = hmac.new(_KEY, body, hashlib.sha256).digest()[:8]
    return base64.urlsafe_b64encode(body + b"|" + mac).decode("ascii").rstrip("=")


def read_token(kind: str, token: str | None) -> int:
    """The offset a token stands for; 0 without one. A token this server did not issue for `kind` is refused."""
    if not token:
        return 0
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        if len(raw) < 10 or raw[-9:-8] != b"|":  # the mac is 8 bytes and may itself hold a "|"
            raise ValueError("not a token")
        body, mac = raw[:-9], raw[-8:]
        name, offset = body.decode().split(":")
        valid = hmac.compare_digest(mac, hmac.new(_KEY, body, hashlib.sha256).digest()[:8]) and name == kind
        if valid and offset.isdigit():
            return int(offset)
    except (ValueError, UnicodeDecodeError):
        pass
    raise bad_token()


def bad_token() -> ApiError:
    return invalid_argument("Invalid page token.", [("page_token", "Invalid page token.")])


def page(items: list, kind: str, query: dict[str, str], rules: Paging) -> tuple[list, str | None]:
    """One page of `items` and the token of the next (None on the last page)."""
    size = page_size(query.get("pageSize", query.get("page_size")), rules)
    start = read_token(kind, query.get("pageToken", query.get("page_token")))
    if start > len(items):
        raise bad_token()
    end = start + size
    return items[start:end], make_token(kind, end) if end < len(items) else None
