"""Form protection for the public pages: signed CSRF tokens and a per-client rate limit.

CSRF: the double-submit pattern — a random token signed with the deployment secret is set as a
cookie and echoed in a hidden form field; a post is accepted when both are present, equal, and
the signature is good and younger than ``max_age_s``. Rate limit: a sliding window per client
address (``limit`` posts per ``window_s``), kept in memory — one process; a deployment behind
several workers puts the limit in its reverse proxy as well.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import deque

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

CSRF_COOKIE = "mw_csrf"
CSRF_FIELD = "csrf_token"


class CsrfTokens:
    def __init__(self, secret: str, *, max_age_s: int = 3600) -> None:
        self._serializer = URLSafeTimedSerializer(secret, salt="minewatch-csrf")
        self.max_age_s = max_age_s

    def issue(self) -> str:
        return self._serializer.dumps(secrets.token_urlsafe(16))

    def current(self, cookie: str | None) -> str:
        """The token for a page: the browser's own while it has a good half of its life left
        (so another tab, or a 404 for the favicon, does not expire the form in this one), else
        a new one."""
        if cookie:
            try:
                self._serializer.loads(cookie, max_age=self.max_age_s // 2)
            except (BadSignature, SignatureExpired):
                return self.issue()
            return cookie
        return self.issue()

    def valid(self, cookie: str | None, field: str | None) -> bool:
        if not cookie or not field or not secrets.compare_digest(cookie, field):
            return False
        try:
            self._serializer.loads(field, max_age=self.max_age_s)
        except (BadSignature, SignatureExpired):
            return False
        return True


class RateLimit:
    """At most ``limit`` events per ``window_s`` seconds per key."""

    def __init__(self, limit: int, window_s: float) -> None:
        self.limit = limit
        self.window_s = window_s
        self._events: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str, now: float | None = None) -> bool:
        moment = time.monotonic() if now is None else now
        with self._lock:
            events = self._events.setdefault(key, deque())
            while events and events[0] <= moment - self.window_s:
                events.popleft()
            if len(events) >= self.limit:
                return False
            events.append(moment)
            return True
