"""An Atom feed (RFC 4287) of the newest core papers, for any feed reader.

:func:`render_feed` lists the papers labelled ``relevance=core``, the most
recently stored first (``first_seen``, then publication date), at most
``limit`` of them. Each entry's id is stable across refreshes and merges: a
``tag:`` URI built from the paper's arXiv id, else its DOI, else its Semantic
Scholar id, so a reader shows a paper once. ``updated`` is when the paper was
first stored, ``published`` its publication date; the summary is the
abstract, and the labels are Atom categories. Paper text is untrusted: the
feed is built with :mod:`xml.etree.ElementTree` (every value escaped), and
characters XML 1.0 cannot carry are dropped.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import sqlite_utils

from . import store
from .errors import StoreError

__all__ = ["FEED_FILE", "FEED_ID", "DEFAULT_FEED_LIMIT", "entry_id", "feed_entries", "render_feed", "write_feed"]

FEED_FILE = "feed.xml"
FEED_ID = "tag:rlmllm-graph,2025:feed/new-core-papers"
DEFAULT_FEED_LIMIT = 100
ATOM = "http://www.w3.org/2005/Atom"
_NOT_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_EPOCH = "1970-01-01T00:00:00Z"


def _text(v: Any) -> str:
    return _NOT_XML.sub("", " ".join(str(v).split())) if v is not None else ""


def entry_id(paper: dict[str, Any]) -> str:
    """A stable id for a paper's entry: by arXiv id, else DOI, else Semantic Scholar id."""
    if paper.get("arxiv_id"):
        key = f"arxiv/{paper['arxiv_id']}"
    elif paper.get("doi"):
        key = f"doi/{paper['doi']}"
    else:
        key = f"paper/{paper['paper_id']}"
    # a tag URI's specific part is URI characters: percent-encode anything else
    safe = re.sub(r"[^A-Za-z0-9\-._~/:;=@!$&'()*+,]", lambda m: "".join(f"%{b:02X}" for b in m.group().encode()), key)
    return f"tag:rlmllm-graph,2025:{safe}"


def _timestamp(value: Any) -> str | None:
    """An RFC 3339 time for an ISO date or time (UTC when it has no zone); None when it is not one."""
    if not value:
        return None
    text = str(value).strip()
    try:
        if re.fullmatch(r"\d{4}(-\d{2}){0,2}", text):
            parts = [int(x) for x in text.split("-")] + [1, 1]
            d = datetime(parts[0], parts[1], parts[2], tzinfo=timezone.utc)
        else:
            d = datetime.fromisoformat(text.replace("Z", "+00:00"))
            if d.tzinfo is None:
                d = d.replace(tzinfo=timezone.utc)
    except ValueError:
        return None
    return d.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _link(p: dict[str, Any]) -> str | None:
    if p.get("arxiv_id"):
        return f"https://arxiv.org/abs/{p['arxiv_id']}"
    if p.get("doi"):
        return f"https://doi.org/{p['doi']}"
    url = p.get("url")
    return url if isinstance(url, str) and url.startswith(("http://", "https://")) else None


def feed_entries(db: sqlite_utils.Database, *, limit: int = DEFAULT_FEED_LIMIT) -> list[dict[str, Any]]:
    """The core papers of the feed, newest stored first: paper fields plus ``authors`` and ``labels``."""
    labels = store.load_labels(db)
    core = set(labels.loc[(labels["facet"] == "relevance") & (labels["value"] == "core"), "paper_id"])
    if not core:
        return []
    papers = store.load_papers(db)
    papers = papers[papers["paper_id"].isin(core)].copy()
    papers["_first"] = papers["first_seen"].fillna("").astype(str)
    papers["_date"] = papers["publication_date"].fillna("").astype(str)
    papers = papers.sort_values(["_first", "_date", "paper_id"], ascending=[False, False, True]).head(limit)
    by_paper: dict[str, dict[str, list[str]]] = {}
    for pid, facet, value in zip(labels["paper_id"], labels["facet"], labels["value"]):
        if pid in core:
            vals = by_paper.setdefault(pid, {}).setdefault(facet, [])
            if value not in vals:
                vals.append(value)
    authors = store.load_paper_authors(db)
    out = []
    for row in papers.to_dict("records"):
        p = {k: (None if _missing(v) else v) for k, v in row.items() if not k.startswith("_")}
        p["labels"] = {f: sorted(v) for f, v in sorted(by_paper.get(p["paper_id"], {}).items())}
        p["authors"] = [name for _, name in authors.get(p["paper_id"], []) if name]
        out.append(p)
    return out


def _missing(v: Any) -> bool:
    try:
        return v is None or bool(v != v)  # NaN
    except (TypeError, ValueError):
        return False


def render_feed(
    db: sqlite_utils.Database, *, limit: int = DEFAULT_FEED_LIMIT, site_url: str | None = None,
    now: str | None = None,
) -> str:
    """The Atom feed as a string (UTF-8 XML with its declaration).

    ``site_url``, when given, is the address the report is published at: the
    feed then links to it (``rel="alternate"``) and to itself (``rel="self"``).
    """
    entries = feed_entries(db, limit=limit)
    ET.register_namespace("", ATOM)
    q = lambda tag: f"{{{ATOM}}}{tag}"  # noqa: E731
    feed = ET.Element(q("feed"))
    ET.SubElement(feed, q("id")).text = FEED_ID
    ET.SubElement(feed, q("title")).text = "RL-based reasoning in multimodal LLMs: new core papers"
    ET.SubElement(feed, q("subtitle")).text = (
        "Papers classified relevance=core, newest first, from the citation graph of the Reinforced MLLM survey "
        "(arXiv 2504.21277) and the field around it."
    )
    stamps = [s for s in (_timestamp(e.get("first_seen")) for e in entries) if s]
    ET.SubElement(feed, q("updated")).text = max(stamps) if stamps else (_timestamp(now) or _EPOCH)
    author = ET.SubElement(feed, q("author"))
    ET.SubElement(author, q("name")).text = "rlmllm-graph"
    ET.SubElement(feed, q("generator")).text = "rlmllm-graph"
    if site_url:
        base = site_url.rstrip("/") + "/"
        ET.SubElement(feed, q("link"), rel="alternate", type="text/html", href=base + "index.html")
        ET.SubElement(feed, q("link"), rel="self", type="application/atom+xml", href=base + FEED_FILE)
    for p in entries:
        e = ET.SubElement(feed, q("entry"))
        ET.SubElement(e, q("id")).text = entry_id(p)
        ET.SubElement(e, q("title")).text = _text(p.get("title")) or "(untitled)"
        updated = _timestamp(p.get("first_seen")) or _timestamp(p.get("updated_at")) or _EPOCH
        ET.SubElement(e, q("updated")).text = updated
        published = _timestamp(p.get("publication_date")) or _timestamp(p.get("year"))
        if published:
            ET.SubElement(e, q("published")).text = published
        for name in p["authors"][:20]:
            ET.SubElement(ET.SubElement(e, q("author")), q("name")).text = _text(name) or "unknown"
        link = _link(p)
        if link:
            ET.SubElement(e, q("link"), rel="alternate", href=link)
        for facet, values in p["labels"].items():
            for v in values:
                ET.SubElement(e, q("category"), term=_text(v), scheme=f"tag:rlmllm-graph,2025:facet/{facet}",
                              label=f"{facet}: {_text(v)}")
        summary = _text(p.get("abstract"))
        tags = "; ".join(f"{f}: {', '.join(v)}" for f, v in p["labels"].items() if f != "relevance" and v)
        text = " ".join(x for x in (summary, f"[{tags}]" if tags else "") if x)
        if link is None:  # an entry without an alternate link must carry content
            ET.SubElement(e, q("content"), type="text").text = text or _text(p.get("title")) or "(untitled)"
        elif text:
            ET.SubElement(e, q("summary"), type="text").text = text
    ET.indent(feed)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(feed, encoding="unicode") + "\n"


def write_feed(db: sqlite_utils.Database, out_dir: str | Path, **kwargs: Any) -> Path:
    """Write ``feed.xml`` into ``out_dir``; returns its path. Raises StoreError when it cannot be written."""
    path = Path(out_dir) / FEED_FILE
    try:
        path.write_text(render_feed(db, **kwargs), encoding="utf-8")
    except OSError as exc:
        raise StoreError(f"cannot write {path}: {exc.strerror or exc}") from None
    return path
