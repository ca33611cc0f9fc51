"""What every HTTP client of :mod:`rlmllm_graph.sources` shares: pacing, back-off and its lifecycle.

One request at a time, at least ``pace`` seconds apart; retries wait an
exponential back-off with "equal jitter" (never zero, never in lockstep), or
what the server's ``Retry-After`` asks, capped.
"""

from __future__ import annotations

import email.utils
import math
import random
import time
from collections.abc import Callable
from typing import Any

import httpx

from ..errors import BadInput

__all__ = ["PacedClient", "check_seconds", "retry_after_seconds"]


def check_seconds(timeout: object = None, **durations: float | None) -> None:
    """Refuse (:class:`BadInput`) a duration that is not finite and at least 0, or a ``timeout`` not above 0.

    ``None`` means "the default" and passes; a ``timeout`` that is not a number (an ``httpx.Timeout``) too.
    """
    for name, value in durations.items():
        if value is not None and not (math.isfinite(value) and value >= 0):
            raise BadInput(f"{name} must be a finite number of seconds, at least 0, not {value!r}")
    if isinstance(timeout, (int, float)) and not (math.isfinite(timeout) and timeout > 0):
        raise BadInput(f"timeout must be a finite number of seconds above 0, not {timeout!r}")


def retry_after_seconds(value: str | None) -> float | None:
    """``Retry-After`` as seconds: delta-seconds or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - time.time())


class PacedClient:
    """Base of the API clients: an owned or injected ``httpx.Client``, pacing and back-off delays.

    Subclasses set ``http``, ``pace``, ``backoff``, ``backoff_max``, ``retry_after_max``
    through :meth:`_init_pacing` and call :meth:`_wait_for_pace` before each request.
    """

    http: httpx.Client
    #: Extra random seconds (up to backoff × this) added to a server's Retry-After wait.
    retry_after_jitter = 0.0

    def _init_pacing(
        self,
        http: httpx.Client | None,
        make_http: Callable[[], httpx.Client],
        *,
        pace: float,
        backoff: float,
        backoff_max: float,
        retry_after_max: float,
        sleep: Callable[[float], Any],
        seed: int | None,
    ) -> None:
        self._own_http = http is None
        self.http = http or make_http()
        self.pace = max(0.0, pace)
        self.backoff = max(0.0, backoff)
        self.backoff_max = backoff_max
        self.retry_after_max = retry_after_max
        self._sleep = sleep
        self._rng = random.Random(seed)
        self._next_at = 0.0
        self.requests = 0  # HTTP requests sent, retries included
        self.retries = 0

    def close(self) -> None:
        if self._own_http:
            self.http.close()

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _wait_for_pace(self) -> None:
        if self.pace <= 0:
            return
        now = time.monotonic()
        if now < self._next_at:
            self._sleep(self._next_at - now)
            now = time.monotonic()
        self._next_at = now + self.pace

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            extra = self._rng.uniform(0, self.backoff * self.retry_after_jitter) if self.retry_after_jitter else 0.0
            return min(retry_after, self.retry_after_max) + extra
        d = min(self.backoff_max, self.backoff * 2 ** (attempt - 1))
        return d / 2 + self._rng.uniform(0, d / 2)  # "equal jitter": never zero, never in lockstep
