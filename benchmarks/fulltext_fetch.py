"""Full-text fetching: requests per paper and bytes stored per paper, against the fake arXiv.

``measure(n)`` generates ``n`` papers (tests/fake_arxiv.py ``make_papers``) with
the mix the real corpus implies: 6% with arXiv ids from before December 2023
(the share in ../shared/data/corpus.jsonl; arXiv has no HTML for them, so the
LaTeX source is the one request), and of the others 97% with an HTML rendering
(arXiv reports HTML for every new TeX/LaTeX submission since 2023, error-free
for 75% of them; we leave 3% for conversions that failed outright: they take
two requests, HTML 404 then the source); 2% have a PDF-only source and 1% are
not on arXiv (two requests each when recent). One paper in twenty is
throttled once (429 with ``Retry-After: 0``): those retries are counted apart.

Target: at most 1.1 requests per arXiv paper, plus retries. The pace is 0 here
(the real run waits 3 s between requests: 200 papers take about 10 minutes).

    .venv/bin/python benchmarks/fulltext_fetch.py [N]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "src"))

from fake_arxiv import FakeArxiv, make_papers, seed_database  # noqa: E402

from rlmllm_graph import store  # noqa: E402
from rlmllm_graph.fulltext import fetch_fulltext  # noqa: E402
from rlmllm_graph.sources.arxiv import ArxivClient, has_html  # noqa: E402

TARGET = 1.1
OLD, HTML, PDF_ONLY, MISSING = 0.06, 0.97, 0.02, 0.01  # make_papers' defaults (see the module docstring)


def expected_requests_per_paper(old: float = OLD, html: float = HTML, pdf: float = PDF_ONLY,
                                missing: float = MISSING) -> float:
    """What the mix implies: one request a paper, two for a recent paper without HTML (404, then the source)."""
    recent = 1 - old
    other = 1 - pdf - missing
    return 1 + recent * (pdf + missing + other * (1 - html))


def measure(n_papers: int = 200) -> dict[str, float]:
    """Fetch ``n_papers`` generated papers into a fresh database; the figures of that run."""
    papers = make_papers(n_papers, seed=11)
    faults = {}
    for i, p in enumerate(papers):
        if i % 20 == 7:  # one paper in twenty is throttled once on its first request
            faults[f"/{'html' if has_html(p.arxiv_id) else 'e-print'}/{p.arxiv_id}"] = ["429-retry-after:0"]
    with tempfile.TemporaryDirectory() as tmp:
        db = store.open_db(Path(tmp) / "bench.db")
        seed_database(db, papers)
        with FakeArxiv(papers, faults=faults) as fake:
            client = ArxivClient(fake.url, pace=0, backoff=0.001, timeout=10)
            t = time.perf_counter()
            report = fetch_fulltext(db, client)
            seconds = time.perf_counter() - t
            served = fake.count()
        stored = db.execute("SELECT count(DISTINCT paper_id), coalesce(sum(length(text)), 0) FROM sections").fetchone()
        raw = sum(len(s["text"]) for secs in store.load_sections(db).values() for s in secs)
        db.conn.close()
    first_tries = report.requests - report.retries
    return {
        "papers": report.selected,
        "fetched": report.fetched,
        "without_text": report.without_text,
        "missing": report.missing,
        "failed": report.failed,
        "requests": report.requests,
        "retries": report.retries,
        "server_requests": served,
        "requests_per_paper": first_tries / max(report.selected, 1),
        "retries_per_paper": report.retries / max(report.selected, 1),
        "target_requests_per_paper": TARGET,
        "expected_requests_per_paper": expected_requests_per_paper(),
        "bytes_stored_per_paper": stored[1] / max(stored[0], 1),
        "text_chars_per_paper": raw / max(stored[0], 1),
        "seconds": seconds,
    }


def main(argv: list[str]) -> None:
    n = int(argv[0]) if argv else 200
    m = measure(n)
    verdict = "meets" if m["requests_per_paper"] <= TARGET else "MISSES"
    print(f"fulltext fetch on {m['papers']} generated arXiv papers (fake arXiv, pace 0)")
    print(f"  fetched {m['fetched']}, without text {m['without_text']}, missing {m['missing']}, failed {m['failed']}")
    print(f"  requests per paper   {m['requests_per_paper']:.3f}  (target <= {TARGET}: {verdict})"
          f"  + retries {m['retries_per_paper']:.3f} per paper ({m['retries']} in all)")
    print(f"  expected from the mix: {expected_requests_per_paper():.3f} (97% of recent papers with HTML; "
          f"{expected_requests_per_paper(html=0.9):.3f} at 90%, {expected_requests_per_paper(html=1.0):.3f} at 100%)")
    print(f"  bytes stored per fetched paper  {m['bytes_stored_per_paper']:,.0f} compressed "
          f"({m['text_chars_per_paper']:,.0f} characters of text)")
    print(f"  {m['requests']} requests by the client, {m['server_requests']} seen by the server, {m['seconds']:.1f}s")


if __name__ == "__main__":
    main(sys.argv[1:])
