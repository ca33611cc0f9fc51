"""What the API clients share: their HTTP client's lifecycle, a pace between requests, and back-off with jitter."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Self

    import httpx

__all__ = ["PacedClient"]


class PacedClient:
    """A polite client: at most one request per ``pace`` seconds, retries spaced by exponential back-off.

    Subclasses set ``http`` (and ``_own_http`` when they made it), ``pace``,
    ``backoff``, ``backoff_max`` and ``retry_after_max``, and call
    :meth:`_start_pacing` in their ``__init__``.
    """

    http: httpx.Client
    _own_http: bool
    pace: float
    backoff: float
    backoff_max: float
    retry_after_max: float

    def _start_pacing(self, sleep: Callable[[float], None], seed: int | None) -> None:
        self._sleep = sleep
        self._rng = random.Random(seed)
        self._next_at = 0.0
        self.requests = 0  # HTTP requests sent, retries included
        self.retries = 0

    # -- lifecycle ----------------------------------------------------------------------------

    def close(self) -> None:
        if self._own_http:
            self.http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- pacing ---------------------------------------------------------------------------------

    def _wait_for_pace(self) -> None:
        if self.pace <= 0:
            return
        now = time.monotonic()
        if now < self._next_at:
            self._sleep(self._next_at - now)
            now = time.monotonic()
        self._next_at = now + self.pace

    def _backoff_delay(self, attempt: int) -> float:
        """The wait before retry number ``attempt``: ``backoff * 2**(attempt-1)`` at most ``backoff_max``, with
        "equal jitter" (half of it fixed, half random: never zero, never in lockstep with other clients)."""
        d = min(self.backoff_max, self.backoff * 2 ** (attempt - 1))
        return d / 2 + self._rng.uniform(0, d / 2)
