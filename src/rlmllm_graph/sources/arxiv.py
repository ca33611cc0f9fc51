"""The arXiv full-text client: the only place rlmllm-graph speaks HTTP to arXiv.

:class:`ArxivClient` reads two of arXiv's paths under a root (by default the
programmatic host ``https://export.arxiv.org``; a mirror or a test server
mirroring its paths works the same):

- ``GET <root>/html/<id>`` — the LaTeXML rendering of the paper (most papers
  submitted since December 2023);
- ``GET <root>/e-print/<id>`` — the source as submitted: a gzipped tar of
  several ``.tex`` files, one gzipped ``.tex`` file, or a PDF only;
- ``GET <root>/api/query?id_list=…`` — arXiv's API, for the latest version of
  up to 100 papers a request (to fetch again only papers with a new version).

It follows arXiv's rules for automated access: one request at a time, at most
one every ``pace`` seconds (3 by default), and a ``User-Agent`` naming the tool
and its version. A 429, a 5xx, a timeout or a dropped connection is retried
with exponential back-off, honouring ``Retry-After``. A connection that stalls
is cut by a read timeout (and by an overall deadline, so a server that
trickles a byte now and then cannot hold us), and no response is read past
``max_bytes`` (:class:`~rlmllm_graph.errors.ResponseTooLarge`). 404 and 410 are
answers, not errors: :attr:`Fetched.status` says ``missing`` or ``withdrawn``.

Which version was read (``v1``, ``v2``…) comes from where arXiv redirected
the request (``/html/2503.06749v2``) or from the e-print's file name
(``Content-Disposition: attachment; filename="arXiv-2503.06749v2.tar.gz"``).
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import metadata

import httpx

from ..config import DEFAULT_ARXIV_URL, check_api_url, setting
from ..errors import ApiUnreachable, BadInput, RateLimited, ResponseTooLarge, SourceError
from .pacing import PacedClient, check_seconds, retry_after_seconds

__all__ = [
    "ARXIV_BACKOFF",
    "ARXIV_PACE",
    "HTML_SINCE",
    "MAX_RESPONSE_BYTES",
    "VERSIONS_PER_REQUEST",
    "ArxivClient",
    "Fetched",
    "check_arxiv_url",
    "has_html",
    "split_version",
    "user_agent",
]

log = logging.getLogger(__name__)

ARXIV_BACKOFF: float = setting("arxiv_backoff").default  # seconds before the first retry (doubling after each)
ARXIV_PACE: float = setting("arxiv_pace").default  # seconds between requests: arXiv asks for one every three
ARXIV_TIMEOUT: float = setting("arxiv_timeout").default  # seconds before a stalled request is given up
MAX_RESPONSE_BYTES = 64 * 1024 * 1024  # no arXiv answer we want is larger (source bundles with figures included)
VERSIONS_PER_REQUEST = 100  # ids per /api/query call when checking for new versions
HTML_SINCE = (23, 12)  # arXiv renders HTML for papers submitted from December 2023 on
_RETRY_STATUS = {429, 500, 502, 503, 504}
_NEW_ID = re.compile(r"^(\d{2})(\d{2})\.\d{4,5}$")
_VERSION = re.compile(r"^(.*?)(v\d+)$")


def user_agent() -> str:
    """``rlmllm-graph/<version> (...)``: arXiv asks automated clients to say who they are."""
    try:
        version = metadata.version("rlmllm-graph")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a source tree without install
        version = "dev"
    return f"rlmllm-graph/{version} (full text for a citation graph of RL in multimodal LLMs; one request every 3 s)"


def check_arxiv_url(url: str | None) -> str:
    """The arXiv root without a trailing ``/``; BadInput (naming ``--arxiv-url``) if it is not an http(s) URL."""
    root = check_api_url(DEFAULT_ARXIV_URL if url is None else url, name="--arxiv-url")
    try:
        httpx.URL(root + "/html/")
    except httpx.InvalidURL as exc:
        raise BadInput(f"not an arXiv URL: {url!r} ({exc}; expected http(s)://host, e.g. {DEFAULT_ARXIV_URL})") from None
    return root


def split_version(arxiv_id: str) -> tuple[str, str | None]:
    """``"2503.06749v2"`` -> ``("2503.06749", "v2")``; ``"2503.06749"`` -> ``("2503.06749", None)``."""
    m = _VERSION.match(arxiv_id.strip())
    if m and m.group(1):
        return m.group(1), m.group(2)
    return arxiv_id.strip(), None


def has_html(arxiv_id: str) -> bool:
    """Whether arXiv may have an HTML rendering: new-style ids from 2312 on (older papers: source only)."""
    m = _NEW_ID.match(split_version(arxiv_id)[0])
    return bool(m) and (int(m.group(1)), int(m.group(2))) >= HTML_SINCE


@dataclass
class Fetched:
    """One answer from arXiv."""

    kind: str  # "html" or "e-print"
    arxiv_id: str  # as asked, without version
    status: str  # "ok", "missing" (404) or "withdrawn" (410)
    url: str  # where the body came from (after redirects)
    body: bytes = b""
    content_type: str = ""
    version: str | None = None  # "v2", where arXiv said
    requests: int = 0  # requests this answer took (retries included)
    headers: dict[str, str] = field(default_factory=dict)


class ArxivClient(PacedClient):
    """A polite arXiv client over an (injectable) ``httpx.Client``.

    Parameters
    ----------
    root:
        arXiv's root (``https://export.arxiv.org``) or a mirror of its paths.
    http:
        An ``httpx.Client`` to use (its own timeouts and headers apply).
    pace:
        Minimum seconds between two requests (3: arXiv's rule; 0 in tests).
    timeout:
        Seconds a connection may stay silent (connect and read), and, times
        four, the most one response may take in all.
    max_bytes:
        No response is read past this; a larger one is :class:`ResponseTooLarge`.
    max_attempts:
        Attempts per request on 429, 5xx, timeouts and dropped connections.
    connect_attempts:
        Attempts when the host cannot be reached at all.
    backoff, backoff_max, retry_after_max:
        The n-th retry waits about ``backoff * 2**(n-1)`` seconds (with jitter),
        at most ``backoff_max``; a ``Retry-After`` wins, up to ``retry_after_max``.
    """

    def __init__(
        self,
        root: str | None = DEFAULT_ARXIV_URL,
        *,
        http: httpx.Client | None = None,
        pace: float = ARXIV_PACE,
        timeout: float = ARXIV_TIMEOUT,
        max_bytes: int = MAX_RESPONSE_BYTES,
        max_attempts: int = 5,
        connect_attempts: int = 3,
        backoff: float = ARXIV_BACKOFF,
        backoff_max: float = 120.0,
        retry_after_max: float = 600.0,
        sleep: Callable[[float], None] = time.sleep,
        seed: int | None = None,
    ) -> None:
        self.root = check_arxiv_url(root)
        check_seconds(timeout, pace=pace, backoff=backoff, backoff_max=backoff_max, retry_after_max=retry_after_max)
        if max_bytes < 1:
            raise BadInput(f"max_bytes must be at least 1, not {max_bytes!r}")
        self.timeout = timeout
        self.deadline = 4 * timeout
        self.max_bytes = max_bytes
        self.max_attempts = max(1, max_attempts)
        self.connect_attempts = max(1, connect_attempts)
        self._init_pacing(
            http,
            lambda: httpx.Client(
                timeout=httpx.Timeout(timeout, connect=min(timeout, 15.0)),
                headers={"user-agent": user_agent()},
                follow_redirects=True,
            ),
            pace=pace, backoff=backoff, backoff_max=backoff_max, retry_after_max=retry_after_max,
            sleep=sleep, seed=seed,
        )

    def __enter__(self) -> ArxivClient:
        return self

    def __repr__(self) -> str:
        return f"ArxivClient({self.root!r}, pace={self.pace})"

    # -- endpoints ----------------------------------------------------------------------------

    def fetch_html(self, arxiv_id: str) -> Fetched:
        """``GET /html/<id>``: the LaTeXML rendering (``status`` ``missing`` when there is none)."""
        return self._fetch("html", arxiv_id)

    def fetch_eprint(self, arxiv_id: str) -> Fetched:
        """``GET /e-print/<id>``: the source bundle as submitted (tar.gz, gzipped .tex or PDF)."""
        return self._fetch("e-print", arxiv_id)

    def fetch_versions(self, arxiv_ids: Sequence[str]) -> dict[str, str]:
        """The latest version of each paper (``{"2503.06749": "v3"}``) from arXiv's API
        (``GET /api/query?id_list=…``, :data:`VERSIONS_PER_REQUEST` ids a request); ids arXiv
        does not list are absent."""
        bases = list(dict.fromkeys(split_version(a)[0] for a in arxiv_ids if a))
        out: dict[str, str] = {}
        for i in range(0, len(bases), VERSIONS_PER_REQUEST):
            chunk = bases[i: i + VERSIONS_PER_REQUEST]
            for b in chunk:
                _check_id(b)
            url = f"{self.root}/api/query?id_list={','.join(chunk)}&max_results={len(chunk)}"
            got = self._fetch_url("api", url, ",".join(chunk), None)
            if got.status != "ok":
                continue
            feed = got.body.decode("utf-8", errors="replace")
            if "<feed" not in feed:  # arXiv says "Rate exceeded." in plain text with a 200
                raise RateLimited(f"arXiv's API answered GET {url} with {feed[:60].strip()!r}", url=url)
            for m in _ENTRY_ID.finditer(feed):
                base, version = split_version(m.group(1))
                if version and base in chunk:
                    out[base] = version
        return out

    # -- internals ----------------------------------------------------------------------------

    def _fetch(self, kind: str, arxiv_id: str) -> Fetched:
        base, asked_version = split_version(arxiv_id)
        _check_id(base, arxiv_id)
        return self._fetch_url(kind, f"{self.root}/{kind}/{base}{asked_version or ''}", base, asked_version)

    def _fetch_url(self, kind: str, url: str, base: str, asked_version: str | None) -> Fetched:
        attempt = 0
        start_requests = self.requests
        while True:
            attempt += 1
            self._wait_for_pace()
            self.requests += 1
            retry_after: float | None = None
            detail = ""
            try:
                status, final_url, headers, body = self._get(url)
            except (httpx.LocalProtocolError, httpx.UnsupportedProtocol, httpx.InvalidURL, UnicodeError) as exc:
                raise SourceError(f"cannot send GET {url}: {type(exc).__name__}: {exc}; check --arxiv-url", url=url) from None
            except httpx.TimeoutException:
                problem = "timeout"
            except httpx.ConnectError as exc:
                problem, detail = "connect", str(exc) or type(exc).__name__
            except httpx.TransportError as exc:
                problem, detail = "network", str(exc) or type(exc).__name__
            else:
                used = self.requests - start_requests
                if status == 200:
                    version = _version_from(final_url, headers, base) or asked_version
                    return Fetched(kind, base, "ok", final_url, body, headers.get("content-type", ""), version,
                                   used, headers)
                if status in (404, 410):
                    return Fetched(kind, base, "missing" if status == 404 else "withdrawn", final_url,
                                   requests=used, headers=headers)
                if status in _RETRY_STATUS:
                    problem = str(status)
                    retry_after = retry_after_seconds(headers.get("retry-after"))
                elif status == 403:
                    raise SourceError(
                        f"arXiv refused GET {url} (HTTP 403): it may have blocked automated access from here; "
                        "wait, and keep the pace at 3 s or more (RLMLLM_ARXIV_PACE)", url=url)
                else:
                    raise SourceError(f"arXiv answered GET {url} with HTTP {status}", url=url)
            limit = self.connect_attempts if problem == "connect" else self.max_attempts
            if attempt >= limit:
                raise self._give_up(problem, url, attempt, detail)
            delay = self._delay(attempt, retry_after)
            self.retries += 1
            log.info("GET %s: %s (attempt %d of %d); retrying in %.2fs", url, problem, attempt, limit, delay)
            self._sleep(delay)

    def _get(self, url: str) -> tuple[int, str, dict[str, str], bytes]:
        """One GET, read up to ``max_bytes`` and within the overall deadline."""
        started = time.monotonic()
        with self.http.stream("GET", url, follow_redirects=True) as resp:
            headers = {k.lower(): v for k, v in resp.headers.items()}
            final = str(resp.url)
            if resp.status_code != 200:  # the body of an error is not read: nothing in it is needed
                return resp.status_code, final, headers, b""
            declared = headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > self.max_bytes:
                raise ResponseTooLarge(
                    f"arXiv's answer to GET {url} is {int(declared):,} bytes, more than the "
                    f"{self.max_bytes:,} we read", url=url)
            chunks: list[bytes] = []
            size = 0
            for chunk in resp.iter_bytes():  # decoded: a compressed bomb counts at its full size
                size += len(chunk)
                if size > self.max_bytes:
                    raise ResponseTooLarge(
                        f"arXiv's answer to GET {url} is larger than the {self.max_bytes:,} bytes we read; "
                        "left unread", url=url)
                if time.monotonic() - started > self.deadline:
                    raise httpx.ReadTimeout(f"the answer took more than {self.deadline:g}s")
                chunks.append(chunk)
            return resp.status_code, final, headers, b"".join(chunks)

    def _give_up(self, problem: str, url: str, attempts: int, detail: str) -> SourceError:
        if problem == "connect":
            return ApiUnreachable(
                f"cannot reach arXiv at {url} ({detail}); check --arxiv-url (or RLMLLM_ARXIV_URL) and your network",
                url=url)
        if problem in ("timeout", "network"):
            what = "did not answer in time" if problem == "timeout" else f"dropped the connection ({detail})"
            return ApiUnreachable(f"arXiv at {url} {what} {attempts} times", url=url)
        if problem == "429":
            return RateLimited(
                f"arXiv kept answering 429 Too Many Requests to GET {url} after {attempts} attempts; "
                "run the command again later (it resumes)", url=url)
        return SourceError(
            f"arXiv kept failing on GET {url} (HTTP {problem}, {attempts} attempts); run the command again later "
            "(it resumes)", url=url)


_ENTRY_ID = re.compile(r"<id>\s*https?://arxiv\.org/abs/([^<\s]+)\s*</id>")


def _check_id(base: str, shown: str | None = None) -> None:
    if not base or len(base) > 64 or any(c.isspace() or c in "?#&,/" for c in base.replace("/", "", 1)):
        raise BadInput(f"not an arXiv id: {shown or base!r}")


_DISPOSITION = re.compile(r'filename\*?=(?:UTF-8\'\')?"?([^";]+)"?', re.I)


def _version_from(url: str, headers: dict[str, str], base: str) -> str | None:
    """The ``vN`` arXiv served: from the redirected URL, else from the file name it gave."""
    tail = re.escape(base) + r"(v\d+)"
    m = re.search(tail + r"(?:/|$|\?|\.)", url)
    if m:
        return m.group(1)
    d = _DISPOSITION.search(headers.get("content-disposition", ""))
    if d:
        m = re.search(tail, d.group(1))
        if m:
            return m.group(1)
    return None
