"""The living taxonomy table: the survey's own table, rebuilt from the database.

One row per *core* paper (``relevance = core``), newest first, with the columns
the Reinforced MLLM survey uses: model, date, modality (``T&I``, ``T&V``,
``T&V&A`` …), strategy (``RL``, ``SFT&RL``), algorithm, reward, application
and a link. :func:`build_taxonomy_table` computes the rows;
:func:`render_table_markdown` and :func:`render_table_html` render them with
every cell escaped, so a title full of ``|``, ``*`` or ``<`` cannot break the
table or inject markup.

>>> model_name("Vision-R1: Incentivizing Reasoning Capability in Multimodal Large Language Models")
'Vision-R1'
>>> modality_code(["video", "image"])
'T&I&V'
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import quote

import pandas as pd
import sqlite_utils

from . import store
from .classify.vocabulary import ALGORITHM_NAMES
from .records import plausible_date, plausible_year

__all__ = [
    "NOT_STATED",
    "TABLE_COLUMNS",
    "build_taxonomy_table",
    "model_name",
    "modality_code",
    "paper_link",
    "render_table_html",
    "render_table_markdown",
]

#: (row key, column header) in the order the table shows them.
TABLE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("model", "Model"),
    ("date", "Date"),
    ("modality", "Modality"),
    ("strategy", "Strategy"),
    ("algorithm", "Algorithm"),
    ("reward", "Reward"),
    ("application", "Application"),
    ("link", "Link"),
)

# Survey spelling of each label value, in the order the vocabulary lists them.
_MODALITY = {"image": "I", "video": "V", "audio": "A", "3d": "3D"}
_DISPLAY: dict[str, dict[str, str]] = {
    "strategy": {"rl": "RL", "sft+rl": "SFT&RL"},
    "algorithm": ALGORITHM_NAMES,
    "reward": {"rule": "Rule", "model": "Model", "process": "Process"},
    "application": {
        "general": "General",
        "math": "Math",
        "medical": "Medical",
        "gui-agent": "GUI Agent",
        "spatial": "Spatial",
        "perception": "Perception",
        "generation": "Generation",
        "other": "Other",
    },
}
#: what a cell shows when no label says anything about its facet (an abstention, not a value)
NOT_STATED = "not stated"
#: what it shows when a person set the facet to none by hand (``label ID algorithm=none``)
STATED_NONE = "none"
_STATED_FACETS = ("strategy", "algorithm", "reward", "application")
_NAME_SEPARATORS = (": ", " - ", " – ", " — ")
_S2_ID = re.compile(r"^[0-9a-f]{40}$")


def model_name(title: str | None, *, fallback: str = "", max_words: int = 6) -> str:
    """The model or method name a title announces, else a short title.

    ``"Vision-R1: Incentivizing …"`` → ``"Vision-R1"``: the part before the
    first ``": "`` (or a spaced dash) when it is at most four words. Otherwise
    the first ``max_words`` words, with ``…`` when cut; ``fallback`` when there
    is no title at all.

    >>> model_name("Learning to Reason about Point Clouds with Reinforcement Learning")
    'Learning to Reason about Point Clouds…'
    >>> model_name(None, fallback="2503.06749")
    '2503.06749'
    """
    text = " ".join((title or "").split())
    if not text:
        return fallback
    for sep in _NAME_SEPARATORS:
        head, found, _ = text.partition(sep)
        head = head.strip()
        if found and head and len(head) <= 40 and len(head.split()) <= 4:
            return head
    words = text.split()
    if len(words) <= max_words:
        return text
    return " ".join(words[:max_words]).rstrip(",;:") + "…"


def modality_code(modalities: Iterable[str]) -> str:
    """Label values of the ``modality`` facet → the survey's notation (text is always there).

    >>> modality_code([]), modality_code(["audio", "video"]), modality_code(["3d"])
    ('T', 'T&V&A', 'T&3D')
    """
    values = set(modalities)
    parts = ["T"] + [code for value, code in _MODALITY.items() if value in values]
    parts += sorted(v for v in values if v not in _MODALITY)
    return "&".join(parts)


def _display(facet: str, values: Iterable[str]) -> str:
    names = _DISPLAY[facet]
    values = set(values)
    known = [names[v] for v in names if v in values]
    return ", ".join(known + sorted(v for v in values if v not in names))


def paper_link(paper: dict[str, Any]) -> str:
    """The best public link for a paper: arXiv, then DOI, then its stored URL, then Semantic Scholar."""
    arxiv_id = paper.get("arxiv_id")
    if arxiv_id:
        return f"https://arxiv.org/abs/{arxiv_id}"
    doi = paper.get("doi")
    if doi:
        return "https://doi.org/" + quote(str(doi), safe="/:;()._-")
    url = paper.get("url")
    if url and str(url).startswith(("http://", "https://")):
        return str(url)
    pid = str(paper.get("paper_id") or "")
    if _S2_ID.match(pid):
        return f"https://www.semanticscholar.org/paper/{pid}"
    return ""


def _link_label(url: str) -> str:
    if url.startswith("https://arxiv.org/"):
        return "arXiv"
    if url.startswith("https://doi.org/"):
        return "DOI"
    if url.startswith("https://www.semanticscholar.org/"):
        return "S2"
    return "link" if url else ""


def _none(value: Any) -> Any:
    try:
        return None if pd.isna(value) else value
    except (TypeError, ValueError):
        return value


def build_taxonomy_table(
    db: sqlite_utils.Database, *, papers: pd.DataFrame | None = None, labels: pd.DataFrame | None = None
) -> list[dict[str, Any]]:
    """One row per core paper (label ``relevance = core``), newest first.

    Each row is a dict with ``paper_id``, ``title`` and the keys of
    :data:`TABLE_COLUMNS`: ``model`` (from the title, see :func:`model_name`),
    ``date`` (``YYYY-MM``, or the year), ``modality`` (``T&I`` …), ``strategy``
    (``RL``, ``SFT&RL``), ``algorithm``, ``reward``, ``application`` (values
    joined by ``", "``; :data:`NOT_STATED` when no label states the facet,
    ``"none"`` when a person set it to none) and ``link`` (a URL). Ties in
    date are broken by model name, then ``paper_id``, so the order is stable.
    ``papers`` and ``labels`` are the store's frames of ``db`` when the caller
    has loaded them already.
    """
    labels = store.load_labels(db) if labels is None else labels
    core = set(labels.loc[(labels["facet"] == "relevance") & (labels["value"] == "core"), "paper_id"])
    if not core:
        return []
    facets: dict[str, dict[str, list[str]]] = {}
    for pid, facet, value in zip(labels["paper_id"], labels["facet"], labels["value"]):
        if pid in core:
            facets.setdefault(pid, {}).setdefault(facet, []).append(value)
    stated_none = store.load_manual_none(db)
    papers = store.load_papers(db) if papers is None else papers
    papers = papers[papers["paper_id"].isin(core)]
    rows: list[dict[str, Any]] = []
    for rec in papers.to_dict("records"):
        paper = {k: _none(v) for k, v in rec.items()}
        pid = str(paper["paper_id"])
        f = facets.get(pid, {})
        none = stated_none.get(pid, set())
        cell = {facet: _display(facet, f[facet]) if f.get(facet) else (STATED_NONE if facet in none else NOT_STATED)
                for facet in _STATED_FACETS}
        # what the importer now refuses but an older database may hold is left out
        pub, year = plausible_date(paper.get("publication_date")) or "", plausible_year(paper.get("year"))
        date = pub[:7] if len(pub) >= 7 else (str(year) if year is not None else pub)
        rows.append(
            {
                "paper_id": pid,
                "title": paper.get("title") or "",
                "model": model_name(paper.get("title"), fallback=paper.get("arxiv_id") or pid),
                "date": date,
                "modality": modality_code(f.get("modality", [])),
                "strategy": cell["strategy"],
                "algorithm": cell["algorithm"],
                "reward": cell["reward"],
                "application": cell["application"],
                "link": paper_link(paper),
                "_sort": pub or (str(year) if year is not None else ""),
            }
        )
    rows.sort(key=lambda r: (r["model"].casefold(), r["paper_id"]))
    rows.sort(key=lambda r: r["_sort"], reverse=True)  # stable: ties keep the name order
    for r in rows:
        del r["_sort"]
    return rows


# --- rendering ---------------------------------------------------------------------------

_MD_ESCAPE = re.compile(r"([\\`*_\[\]|<>~$])")
_MD_ENTITY = re.compile(r"&(?=#?[A-Za-z0-9]+;)")


def _md(text: Any) -> str:
    """One Markdown table cell: one line, pipes and inline markup escaped."""
    s = " ".join(str(text if text is not None else "").split())
    s = _MD_ESCAPE.sub(r"\\\1", s)
    return _MD_ENTITY.sub(r"\\&", s)


def _md_url(url: str) -> str:
    return quote(url, safe="/:?#=&%+,;@!$'*._~-")


def render_table_markdown(rows: Sequence[dict[str, Any]]) -> str:
    """The rows as a GitHub-flavoured Markdown table (ends with a newline).

    Every cell is escaped; the link column shows ``[arXiv](…)``, ``[DOI](…)``
    or ``[link](…)``.
    """
    header = "| " + " | ".join(h for _, h in TABLE_COLUMNS) + " |"
    lines = [header, "|" + "---|" * len(TABLE_COLUMNS)]
    for row in rows:
        cells = []
        for key, _ in TABLE_COLUMNS:
            if key == "link":
                url = str(row.get("link") or "")
                cells.append(f"[{_link_label(url)}]({_md_url(url)})" if url else "")
            else:
                cells.append(_md(row.get(key)))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _safe_href(url: str) -> str:
    return url if url.startswith(("http://", "https://")) else ""


def render_table_html(rows: Sequence[dict[str, Any]], *, full_page: bool = False) -> str:
    """The rows as an HTML ``<table class="taxonomy-table">`` (every cell escaped).

    The model cell carries the full title as a tooltip; rows carry
    ``data-paper-id``. With ``full_page=True`` the table is wrapped in a small
    self-contained HTML document (what ``rlmllm-graph table --format html`` writes).
    """
    esc = lambda v: html.escape(str(v if v is not None else ""), quote=True)  # noqa: E731
    out = ['<table class="taxonomy-table">', "<thead><tr>"]
    out.append("".join(f'<th scope="col">{esc(h)}</th>' for _, h in TABLE_COLUMNS))
    out.append("</tr></thead>")
    out.append("<tbody>")
    for row in rows:
        cells = []
        for key, _ in TABLE_COLUMNS:
            if key == "model":
                cells.append(f'<td title="{esc(row.get("title"))}">{esc(row.get("model"))}</td>')
            elif key == "link":
                url = _safe_href(str(row.get("link") or ""))
                cells.append(
                    f'<td><a href="{esc(url)}" rel="noopener noreferrer">{esc(_link_label(url))}</a></td>'
                    if url
                    else "<td></td>"
                )
            else:
                cells.append(f"<td>{esc(row.get(key))}</td>")
        out.append(f'<tr data-paper-id="{esc(row.get("paper_id"))}">' + "".join(cells) + "</tr>")
    out.append("</tbody>")
    out.append("</table>")
    table = "\n".join(out) + "\n"
    if not full_page:
        return table
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<title>RL-based reasoning in MLLMs: taxonomy table</title>\n<style>\n"
        "body{font-family:system-ui,sans-serif;margin:2rem}"
        "table{border-collapse:collapse;font-size:.9rem}"
        "th,td{border:1px solid #ccc;padding:.3rem .5rem;text-align:left;vertical-align:top}"
        "thead th{background:#f3f3f3;position:sticky;top:0}"
        "tbody tr:nth-child(even){background:#fafafa}\n"
        "</style>\n</head>\n<body>\n"
        f"<h1>RL-based reasoning in MLLMs</h1>\n<p>{len(rows)} core papers, newest first.</p>\n"
        + table
        + "</body>\n</html>\n"
    )
