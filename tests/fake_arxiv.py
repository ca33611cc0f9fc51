"""A fake arXiv: a real HTTP server on 127.0.0.1, started in a thread, mirroring arXiv's paths.

- ``GET /html/<id>`` (and ``/html/<id>vN``): a LaTeXML page, or 404 where the
  paper has none; a paper can redirect ``/html/<id>`` to ``/html/<id>vN``.
- ``GET /api/query?id_list=a,b``: arXiv's API, an Atom feed naming each
  paper's latest version (``<id>https://arxiv.org/abs/<id>vN</id>``).
- ``GET /e-print/<id>``: the source bundle (a tar.gz built in memory from a
  fixture folder, one gzipped .tex, or a PDF) with arXiv's
  ``Content-Disposition: attachment; filename="arXiv-<id>vN.tar.gz"``; 404
  where there is none; 410 for a withdrawn paper.

Faults per path, consumed one a request (``faults={"/html/2503.06749":
["429", "503"]}``): ``429`` (no ``Retry-After``), ``429-retry-after:N``,
``503``, ``stall`` (the server says nothing for ``slow_seconds``, past the
client's read timeout). A paper with ``huge`` set streams that many bytes.
Every request is logged (``server.log``); ``on_request`` is called with the
request number before each answer (the kill test uses it).

Also here: the fixture papers of ``tests/fixtures/arxiv`` (modelled on real
papers of the field), generated papers for the benchmark, and a helper that
puts papers with relevance labels into a database.
"""

from __future__ import annotations

import gzip
import io
import random
import socket
import tarfile
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

FIXTURES = Path(__file__).parent / "fixtures" / "arxiv"


@dataclass
class ArxivPaper:
    arxiv_id: str  # without version
    version: str = "v1"
    html: bytes | None = None  # None: /html answers 404
    eprint: bytes | None = None  # None: /e-print answers 404
    eprint_suffix: str = ".tar.gz"
    withdrawn: bool = False  # 410 everywhere
    redirect_html: bool = False  # /html/<id> -> 301 /html/<id>vN
    huge: int = 0  # /html streams this many bytes
    # for the database
    paper_id: str = ""
    title: str = ""
    relevance: str = "core"
    expect: dict[str, Any] = field(default_factory=dict)


def tar_gz(files: dict[str, bytes | str]) -> bytes:
    """A gzipped tar of ``files`` (path -> content), built in memory."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for name, data in files.items():
            raw = data.encode() if isinstance(data, str) else data
            info = tarfile.TarInfo(name)
            info.size = len(raw)
            info.mtime = 1_700_000_000
            tf.addfile(info, io.BytesIO(raw))
    return buf.getvalue()


def folder_tar_gz(folder: Path) -> bytes:
    return tar_gz({str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()})


def gz(data: bytes | str) -> bytes:
    return gzip.compress(data.encode() if isinstance(data, str) else data, mtime=0)


PDF = b"%PDF-1.5\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def fixture_papers() -> list[ArxivPaper]:
    """The hand-written papers of ``tests/fixtures/arxiv`` (structure of real papers, text of our own)."""
    f = FIXTURES
    return [
        ArxivPaper("2503.06749", "v2", html=(f / "2503.06749.html").read_bytes(), eprint=tar_gz({"main.tex": "x"}),
                   paper_id="p-vision-r1", title="Vision-R1",
                   expect={"source": "arxiv-html", "method": "GRPO", "also": ["PPO", "DPO"]}),
        ArxivPaper("2503.21776", "v3", html=(f / "2503.21776.html").read_bytes(), redirect_html=True,
                   paper_id="p-video-r1", title="Video-R1", expect={"source": "arxiv-html", "method": "T-GRPO"}),
        ArxivPaper("2503.01785", "v1", html=(f / "2503.01785.html").read_bytes(), paper_id="p-visual-rft",
                   title="Visual-RFT", relevance="related", expect={"source": "arxiv-html", "method": "GRPO"}),
        ArxivPaper("2504.07615", "v2", html=None, eprint=folder_tar_gz(f / "2504.07615"), paper_id="p-vlm-r1",
                   title="VLM-R1", expect={"source": "arxiv-latex", "method": "GRPO"}),
        ArxivPaper("2503.07365", "v1", html=(f / "not-latexml.html").read_bytes(),
                   eprint=gz((f / "2503.07365.tex").read_bytes()), eprint_suffix=".gz", paper_id="p-mm-eureka",
                   title="MM-Eureka", expect={"source": "arxiv-latex", "method": "RLOO"}),
        ArxivPaper("2106.09685", "v2", eprint=PDF, eprint_suffix=".pdf", paper_id="p-pdf-only",
                   title="A paper whose source is a PDF", relevance="related", expect={"status": "no-text"}),
        ArxivPaper("2502.00001", "v1", paper_id="p-missing", title="A paper arXiv does not have",
                   expect={"status": "missing"}),
        ArxivPaper("2501.00002", "v1", withdrawn=True, paper_id="p-withdrawn", title="A withdrawn paper",
                   expect={"status": "withdrawn"}),
        ArxivPaper("2503.99999", "v1", html=b"<p>unrelated</p>", paper_id="p-other", title="Not relevant",
                   relevance="other"),
    ]


def seed_database(db: Any, papers: Iterable[ArxivPaper], extra: Sequence[tuple[str, str | None, str]] = ()) -> None:
    """Store the papers (with their arXiv ids) and a relevance label each; ``extra`` adds
    ``(paper_id, arxiv_id, relevance)`` papers (e.g. without an arXiv id)."""
    from rlmllm_graph import store
    from rlmllm_graph.records import Paper

    rows = [(p.paper_id, p.arxiv_id, p.relevance, p.title) for p in papers]
    rows += [(pid, aid, rel, f"Paper {pid}") for pid, aid, rel in extra]
    with store.transaction(db):
        store.upsert_papers(db, [Paper(pid, arxiv_id=aid, title=title, citation_count=len(rows) - i)
                                 for i, (pid, aid, _, title) in enumerate(rows)])
        store.insert_labels(db, [
            {"paper_id": pid, "facet": "relevance", "value": rel, "confidence": 0.9, "source": "rules",
             "evidence": "title"} for pid, _, rel, _ in rows
        ])


# -- generated papers (benchmarks) ----------------------------------------------------------------

_ALGOS = ["GRPO", "PPO", "DPO", "RLOO", "REINFORCE++", "DAPO"]


_WORDS = sorted(set(" ".join(
    p.read_text(errors="replace") for p in sorted(FIXTURES.glob("*.tex"))
).replace("\\", " ").replace("{", " ").replace("}", " ").split()) | {
    "policy", "reward", "model", "visual", "reasoning", "training", "benchmark", "accuracy", "group", "sample",
    "token", "image", "video", "answer", "question", "baseline", "stable", "entropy", "length", "rollout"})


def _prose(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(_WORDS) for _ in range(words)) + "."


def _html_page(arxiv_id: str, version: str, title: str, algo: str, rng: random.Random) -> bytes:
    """A LaTeXML page about as long as a real paper's text (40-80 paragraphs of 60-120 words)."""
    paras = "".join(
        f'<div class="ltx_para"><p class="ltx_p">We optimise the policy with {algo} and a rule-based reward '
        f'<math alttext="r_{{{k}}}" class="ltx_Math"><mi>r</mi></math>. {_prose(rng, rng.randint(60, 120))}'
        "</p></div>"
        for k in range(rng.randint(40, 80))
    )
    return (
        f'<html><head><link rel="canonical" href="https://arxiv.org/html/{arxiv_id}{version}"/></head><body>'
        '<nav class="ltx_page_navbar">contents</nav><article class="ltx_document">'
        f'<h1 class="ltx_title ltx_title_document">{title}</h1>'
        '<div class="ltx_abstract"><h6 class="ltx_title ltx_title_abstract">Abstract</h6>'
        f'<p class="ltx_p">We study {title}.</p></div>'
        '<section class="ltx_section"><h2 class="ltx_title ltx_title_section">'
        '<span class="ltx_tag ltx_tag_section">1 </span>Introduction</h2>'
        '<div class="ltx_para"><p class="ltx_p">PPO and DPO are common; we revisit them.</p></div></section>'
        '<section class="ltx_section"><h2 class="ltx_title ltx_title_section">'
        f'<span class="ltx_tag ltx_tag_section">2 </span>Method</h2>{paras}</section>'
        '<section class="ltx_bibliography"><h2 class="ltx_title">References</h2><ul><li>[1] A.</li></ul></section>'
        "</article></body></html>"
    ).encode()


def make_papers(n: int, *, seed: int = 0, old_share: float = 0.06, html_share: float = 0.97,
                pdf_share: float = 0.02, missing_share: float = 0.01) -> list[ArxivPaper]:
    """``n`` generated papers. ``old_share`` have ids before 2312 (arXiv has no HTML for them: LaTeX only);
    of the others ``html_share`` have HTML, the rest only LaTeX (HTML 404). Across both, ``pdf_share`` have a
    PDF-only source and ``missing_share`` are not on arXiv at all."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        old = rng.random() < old_share
        aid = f"{'22' if old else '25'}{1 + i % 12:02d}.{10000 + i:05d}"
        title = f"Generated paper {i}"
        algo = rng.choice(_ALGOS)
        version = f"v{1 + i % 3}"
        p = ArxivPaper(aid, version, paper_id=f"gen-{i:06d}", title=title, relevance="core" if i % 3 else "related",
                       expect={"method": algo})
        x = rng.random()
        if x < missing_share:
            pass  # 404 on both
        elif x < missing_share + pdf_share:
            p.eprint, p.eprint_suffix = PDF, ".pdf"
        elif not old and rng.random() < html_share:
            p.html = _html_page(aid, version, title, algo, rng)
        else:
            p.eprint = tar_gz({
                "main.tex": "\\documentclass{article}\\newcommand{\\algo}{" + algo + "}\\begin{document}"
                            "\\section{Introduction}PPO is common.\\input{method}\\end{document}",
                "method.tex": "\\section{Method}" + "We train with \\algo{} and a rule-based reward. " * 20,
            })
        out.append(p)
    return out


# -- the server ---------------------------------------------------------------------------------


class FakeArxiv:
    """The fake arXiv over a list of :class:`ArxivPaper`. Use as a context manager, or start()/stop()."""

    def __init__(
        self,
        papers: Iterable[ArxivPaper],
        *,
        faults: dict[str, list[str]] | None = None,
        slow_seconds: float = 1.0,
        on_request: Callable[[int, dict[str, Any]], None] | None = None,
    ) -> None:
        self.papers = {p.arxiv_id: p for p in papers}
        self.faults = {k: list(v) for k, v in (faults or {}).items()}
        self.slow_seconds = slow_seconds
        self.on_request = on_request
        self.log: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None, "start() the server first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> FakeArxiv:
        fake = self

        class Handler(_Handler):
            server_fake = fake

        self._server = _Server(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeArxiv:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def count(self, kind: str | None = None) -> int:
        """Requests received: all, or to ``html`` or ``e-print``."""
        with self._lock:
            return sum(1 for r in self.log if kind is None or r["kind"] == kind)

    def next_fault(self, path: str) -> str | None:
        with self._lock:
            queue = self.faults.get(path)
            return queue.pop(0) if queue else None

    def api_query(self, query: dict[str, list[str]]) -> tuple[int, dict[str, str], bytes]:
        """arXiv's API for ``id_list``: an Atom feed, one ``<entry>`` per known paper, its ``<id>`` the
        abs URL with the latest version (withdrawn papers too; unknown ids have no entry)."""
        ids = [i for v in query.get("id_list", []) for i in v.split(",") if i]
        entries = "".join(
            f"<entry><id>https://arxiv.org/abs/{i}{self.papers[i].version}</id><title>{self.papers[i].title}</title>"
            f"<updated>2025-05-01T00:00:00Z</updated></entry>"
            for i in ids if i in self.papers
        )
        feed = (
            '<?xml version="1.0" encoding="UTF-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
            f"<id>https://arxiv.org/api/fake</id><title>arXiv Query: id_list={','.join(ids)}</title>{entries}</feed>"
        )
        return 200, {"Content-Type": "application/atom+xml; charset=utf-8"}, feed.encode()

    def answer(self, path: str) -> tuple[int, dict[str, str], bytes | int]:
        """(status, headers, body or a byte count to stream) for a path."""
        parts = path.strip("/").split("/")
        if len(parts) != 2 or parts[0] not in ("html", "e-print"):
            return 404, {}, b"Not Found"
        kind, ref = parts
        base, version = ref, None
        for p in self.papers:
            if ref.startswith(p) and (ref == p or ref[len(p):].startswith("v")):
                base, version = p, ref[len(p):] or None
        paper = self.papers.get(base)
        if paper is None:
            return 404, {}, b"Paper not found"
        if paper.withdrawn:
            return 410, {}, b"This paper has been withdrawn"
        if version is not None and version != paper.version:
            return 404, {}, b"No such version"
        if kind == "html":
            if paper.huge:
                return 200, {"Content-Type": "text/html; charset=utf-8"}, paper.huge
            if paper.html is None:
                return 404, {"Content-Type": "text/html"}, b"<html><body>No HTML for this paper</body></html>"
            if paper.redirect_html and version is None:
                return 301, {"Location": f"/html/{base}{paper.version}"}, b""
            return 200, {"Content-Type": "text/html; charset=utf-8"}, paper.html
        if paper.eprint is None:
            return 404, {}, b"Source not found"
        ctype = {".pdf": "application/pdf", ".gz": "application/x-gzip"}.get(paper.eprint_suffix,
                                                                            "application/x-eprint-tar")
        name = f"arXiv-{base}{paper.version}{paper.eprint_suffix}"
        return 200, {"Content-Type": ctype, "Content-Disposition": f'attachment; filename="{name}"'}, paper.eprint


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass


class _Handler(BaseHTTPRequestHandler):
    server_fake: FakeArxiv
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        fake = self.server_fake
        path = unquote(urlsplit(self.path).path)
        kind = path.strip("/").split("/")[0]
        req = {"path": path, "kind": kind, "user_agent": self.headers.get("user-agent"), "status": None,
               "fault": None}
        with fake._lock:
            fake.log.append(req)
            n = len(fake.log)
        if fake.on_request is not None:
            fake.on_request(n, req)
        fault = fake.next_fault(path)
        req["fault"] = fault
        if fault == "stall":
            time.sleep(fake.slow_seconds)
        if fault and fault.startswith(("429", "503")):
            headers = {}
            if fault.startswith("429-retry-after:"):
                headers["Retry-After"] = fault.split(":", 1)[1]
            self._send(int(fault[:3]), headers, b"Too many requests, slow down", req)
            return
        if path == "/api/query":
            status, headers, body = fake.api_query(parse_qs(urlsplit(self.path).query))
        else:
            status, headers, body = fake.answer(path)
        if isinstance(body, int):
            self._stream(body, headers, req)
            return
        self._send(status, headers, body, req)

    def _send(self, status: int, headers: dict[str, str], data: bytes, req: dict[str, Any]) -> None:
        req["status"] = status
        try:
            self.send_response(status)
            headers = {"Content-Type": "text/plain", **headers}
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except OSError:
            self.close_connection = True

    def _stream(self, size: int, headers: dict[str, str], req: dict[str, Any]) -> None:
        """A huge page, sent without Content-Length, until done or the client hangs up."""
        req["status"] = 200
        try:
            self.send_response(200)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Connection", "close")
            self.end_headers()
            chunk = (b"<p>" + b"huge " * 200 + b"</p>\n") * 64
            sent = 0
            while sent < size:
                self.wfile.write(chunk)
                sent += len(chunk)
        except OSError:
            pass
        self.close_connection = True
