"""Discord's error bodies, and the faults tests inject with ``fail_next``."""

from __future__ import annotations

import json
import math
import time
from typing import Any

from aiohttp import web

from .limits import FormErrors
from .models import FaultRule


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        code: int,
        message: str,
        errors: dict[str, Any] | None = None,
        flat: str = "",
    ) -> None:
        super().__init__(message + (f": {flat}" if flat else ""))
        self.status, self.code, self.message, self.errors = status, code, message, errors

    def response(self) -> web.Response:
        body: dict[str, Any] = {"message": self.message, "code": self.code}
        if self.errors:
            body["errors"] = self.errors
        return json_response(body, self.status)


def json_response(
    data: Any, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    """JSON with Content-Type exactly ``application/json`` (discord.py ignores anything else)."""
    return web.Response(
        status=status,
        body=json.dumps(data).encode(),
        content_type="application/json",
        headers=headers,
    )


def form_error(errs: FormErrors) -> ApiError:
    return ApiError(400, 50035, "Invalid Form Body", errs.errors, str(errs))


UNKNOWN_CHANNEL = (404, 10003, "Unknown Channel")
UNKNOWN_MESSAGE = (404, 10008, "Unknown Message")
UNKNOWN_WEBHOOK = (404, 10015, "Unknown Webhook")
UNKNOWN_INTERACTION = (404, 10062, "Unknown interaction")
MISSING_PERMISSIONS = (403, 50013, "Missing Permissions")
MISSING_ACCESS = (403, 50001, "Missing Access")
EMPTY_MESSAGE = (400, 50006, "Cannot send an empty message")


def fault_response(rule: FaultRule) -> web.Response:
    if rule.status == 429:
        ra = rule.retry_after
        reset = ra if rule.reset_after is None else rule.reset_after
        body = {
            "message": "You are being rate limited.",
            "retry_after": ra,
            "global": rule.is_global,
            "code": 0,
        }
        headers = {
            "Via": "1.1 google",
            "Retry-After": str(max(1, math.ceil(ra))),
            "X-RateLimit-Limit": "5",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": f"{time.time() + reset:.3f}",
            "X-RateLimit-Reset-After": f"{reset:.3f}",
            "X-RateLimit-Bucket": f"dd{abs(hash(rule.pattern.pattern)) % 10**8:08d}",
            "X-RateLimit-Scope": "global" if rule.is_global else "user",
        }
        if rule.is_global:
            headers["X-RateLimit-Global"] = "true"
        return json_response(body, 429, headers)
    body = {
        "message": rule.message or f"{rule.status}: injected by the test double",
        "code": rule.code,
    }
    return json_response(body, rule.status)
