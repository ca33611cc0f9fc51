"""Maintainer script: rebuild the bundled snapshot from ../shared/data/corpus.jsonl and the hand labels.

    .venv/bin/python tests/build_snapshot.py [--date YYYY-MM-DD]

Writes ``src/rlmllm_graph/data/snapshot.jsonl.gz`` (one Semantic Scholar
API-shaped record a line, as ``import`` reads them, in the corpus's order,
with a ``labels`` object where a hand label exists) and ``snapshot.json``
beside it (date, counts, sha256). The gzip header carries no timestamp, so
the same inputs give the same bytes. ``tests/test_snapshot.py`` checks the
shipped files against each other and, where ../shared/data is present,
against the corpus.
"""

from __future__ import annotations

import argparse
import datetime
import gzip
import hashlib
import io
import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "data" / "corpus.jsonl"
OUT = ROOT / "src" / "rlmllm_graph" / "data"
KEYS = ("paperId", "externalIds", "title", "abstract", "year", "publicationDate", "venue", "authors", "references")


def read_corpus(path: Path = CORPUS) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def snapshot_records(corpus: list[dict[str, Any]], labels: dict[str, dict[str, list[str]]]) -> list[dict[str, Any]]:
    ids = {r["paperId"] for r in corpus}
    out = []
    for r in corpus:
        rec = {k: r.get(k) for k in KEYS}
        # only edges between snapshot papers: the stored network stays closed
        rec["references"] = [x for x in (r.get("references") or []) if isinstance(x, str) and x in ids]
        if r["paperId"] in labels:
            rec["labels"] = labels[r["paperId"]]
        out.append(rec)
    return out


def counts(records: list[dict[str, Any]]) -> dict[str, int]:
    authors = {
        a.get("authorId") or "name:" + str(a.get("name")) for r in records for a in (r.get("authors") or []) if a.get("name")
    }
    return {
        "papers": len(records),
        "citations": sum(len(r["references"]) for r in records),
        "authors": len(authors),
        "with_abstract": sum(1 for r in records if r.get("abstract")),
        "with_title": sum(1 for r in records if r.get("title")),
        "labelled": sum(1 for r in records if r.get("labels")),
        "core": sum(1 for r in records if (r.get("labels") or {}).get("relevance") == ["core"]),
        "related": sum(1 for r in records if (r.get("labels") or {}).get("relevance") == ["related"]),
    }


def gzip_bytes(records: list[dict[str, Any]]) -> bytes:
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", compresslevel=9, mtime=0, filename="") as gz:
        for r in records:
            gz.write((json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8"))
    return buf.getvalue()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--date", default=datetime.date.today().isoformat(), help="the snapshot's date (default today)")
    args = ap.parse_args()
    from rlmllm_graph.classify import load_labelled

    labels = {p.paper_id: p.labels for p in load_labelled()}
    records = snapshot_records(read_corpus(), labels)
    data = gzip_bytes(records)
    meta = {
        "format": 1,
        "date": args.date,
        "description": (
            "Real papers of the field (RL and reasoning in multimodal LLMs) from the curated awesome lists, with "
            "arXiv metadata, the citation edges among them, and the project's hand labels. Papers are keyed by a "
            "stand-in id, sha1 of 'ARXIV:<arxiv id>'; a refresh merges them with their Semantic Scholar rows by "
            "arXiv id or DOI."
        ),
        **counts(records),
        "bytes": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
    }
    (OUT / "snapshot.jsonl.gz").write_bytes(data)
    (OUT / "snapshot.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(meta, indent=2))


if __name__ == "__main__":
    main()
