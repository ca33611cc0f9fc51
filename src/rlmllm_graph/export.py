"""Exports for other tools: BibTeX (Zotero), CSV (spreadsheets), GraphML and GEXF (Gephi),
and JSONL in Semantic Scholar shape (read back by ``rlmllm-graph import``).

Every ``export_*`` function takes an open database and ``out``: a path (the
file is written next to it and renamed into place, so a failed export never
leaves half a file; a symlink is written through, a device or FIFO directly)
or an open file object (text or binary). Each returns an
:class:`ExportReport`. ``relevance=("core",)`` limits an export to papers with
those ``relevance`` labels.

* **BibTeX** — one entry per paper with a stable citation key
  (first author's last name + year + first title word, e.g. ``huang2025vision``;
  a clash gets ``b``, ``c`` … in the order the papers entered the database, so
  keys never change as the database grows), ``eprint``/``archivePrefix`` for
  arXiv papers, ``doi``, ``url``, the abstract and the labels as ``keywords``
  (Zotero turns them into tags). LaTeX special characters are escaped.
* **CSV** — one row per paper, one column per label facet (values joined by ``;``).
* **GraphML / GEXF** — the citation graph with title, year, PageRank,
  community and one attribute per label facet on every node; lists are joined
  with ``;`` and missing values are left out, so Gephi reads every attribute
  with one type.
* **JSONL** — Graph API paper objects (``paperId``, ``externalIds``, …,
  ``authors``, ``references`` as ids) that ``import`` turns back into the same
  papers, authors and citations.
"""

from __future__ import annotations

import csv
import json
import math
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from . import store
from .classify.vocabulary import ordered_facets
from .errors import BadInput
from .output import Output, open_text
from .records import plausible_date, plausible_year
from .table import model_name, paper_link

if TYPE_CHECKING:
    import networkx as nx
    import sqlite_utils  # annotations only: sqlite-utils imports pandas when it is imported

__all__ = [
    "EXPORT_FORMATS",
    "ExportReport",
    "build_export_graph",
    "compute_citation_keys",
    "export_bibtex",
    "export_csv",
    "export_database",
    "export_gexf",
    "export_graphml",
    "export_jsonl",
    "latex_escape",
]



@dataclass
class ExportReport:
    """What an export wrote."""

    format: str
    papers: int = 0
    edges: int = 0
    skipped_edges: int = 0  # JSONL: citations neither of whose ends is a stored paper

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


# --- shared reads --------------------------------------------------------------------------


def _labels_by_paper(db: sqlite_utils.Database) -> dict[str, dict[str, list[str]]]:
    labels = store.load_labels(db)
    out: dict[str, dict[str, list[str]]] = {}
    for pid, facet, value in zip(labels["paper_id"], labels["facet"], labels["value"]):
        out.setdefault(pid, {}).setdefault(facet, []).append(value)
    return out


def _facet_order(labels: dict[str, dict[str, list[str]]]) -> list[str]:
    return ordered_facets(f for facets in labels.values() for f in facets)


def _selected(
    labels: dict[str, dict[str, list[str]]], relevance: Sequence[str] | None
) -> Callable[[str], bool]:
    if not relevance:
        return lambda pid: True
    wanted = set(relevance)
    keep = {pid for pid, facets in labels.items() if wanted & set(facets.get("relevance", ()))}
    return keep.__contains__


def _papers(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    return list(store.iter_papers(db))


# --- BibTeX --------------------------------------------------------------------------------

_LATEX = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}
_FOLD = str.maketrans({"ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "ß": "ss", "æ": "ae", "Æ": "AE", "đ": "d",
                       "Đ": "D", "ı": "i", "œ": "oe", "Œ": "OE", "þ": "th"})
_STOP = frozenset("a an the on of in for to and or with from by via at is are towards toward".split())
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_CONFERENCE = re.compile(
    r"conference|proceedings|workshop|symposium|annual meeting|computer vision and pattern recognition|"
    r"neural information processing systems|learning representations|"
    r"\b(cvpr|iccv|eccv|neurips|nips|iclr|icml|acl|emnlp|naacl|coling|aaai|ijcai|kdd|sigir|wacv|bmvc|colm|corl|"
    r"icra|iros)\b",
    re.IGNORECASE,
)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def latex_escape(text: str) -> str:
    r"""Escape LaTeX's special characters (and fold whitespace) for a BibTeX field.

    >>> print(latex_escape("R&D at 100% {fast} $x_1$ #1 ~ok^"))
    R\&D at 100\% \{fast\} \$x\_1\$ \#1 \textasciitilde{}ok\textasciicircum{}
    """
    text = " ".join(_CONTROL.sub(" ", text).split())
    return "".join(_LATEX.get(ch, ch) for ch in text)


def _protect_case(escaped: str) -> str:
    """Brace words with capitals after their first letter (``{GRPO}``, ``{Vision-R1}``) so styles keep them."""
    words = []
    for word in escaped.split(" "):
        m = re.match(r"^([^\w\\]*)([\w][\w\-'.+]*?)([^\w]*)$", word)
        if m and "\\" not in word and re.search(r".[A-Z]", m.group(2)):
            word = f"{m.group(1)}{{{m.group(2)}}}{m.group(3)}"
        words.append(word)
    return " ".join(words)


def _ascii_words(text: str) -> list[str]:
    folded = unicodedata.normalize("NFKD", text.translate(_FOLD)).encode("ascii", "ignore").decode()
    return re.findall(r"[a-z0-9]+", folded.lower())


def _key_base(authors: Sequence[str], year: Any, title: str | None, arxiv_id: str | None = None) -> str:
    last = ""
    if authors:
        name = authors[0].strip()
        last_token = name.split(",")[0] if "," in name else (name.split() or [""])[-1]
        last = "".join(_ascii_words(last_token))
    words = [w for w in _ascii_words(title or "") if w not in _STOP]
    year_part = str(int(year)) if year not in (None, "") and not _isnan(year) else "nd"
    if words:
        word = words[0]
    elif arxiv_id:  # no title: the arXiv id tells the papers apart better than b, c, d …
        word = "arxiv" + "".join(_ascii_words(arxiv_id))
    else:
        word = "untitled"
    return f"{last or 'anon'}{year_part}{word}"


def _isnan(value: Any) -> bool:
    return isinstance(value, float) and math.isnan(value)


def compute_citation_keys(db: sqlite_utils.Database) -> dict[str, str]:
    """``paper_id`` → BibTeX key, over the whole database.

    The base key is first author's last name + year + first significant title
    word (ASCII, lower case; ``arxiv`` + the arXiv id when there is no title;
    ``anon``/``nd`` for no author/year). Papers sharing a base are ordered by
    when they entered the database (``first_seen``, then ``paper_id``): the
    first keeps the base, the next get ``b``, ``c`` …, so an existing key never
    changes when new papers arrive.
    """
    authors = store.load_authors(db)
    groups: dict[str, list[tuple[str, str]]] = {}
    for p in store.iter_papers(db, columns=("paper_id", "title", "year", "arxiv_id", "first_seen")):
        base = _key_base(authors.get(p["paper_id"], []), p["year"], p["title"], p["arxiv_id"])
        groups.setdefault(base, []).append((p["first_seen"] or "", p["paper_id"]))
    keys: dict[str, str] = {}
    taken = set(groups)
    for base, members in groups.items():
        members.sort()
        for i, (_, pid) in enumerate(members):
            key = base if i == 0 else _suffixed(base, i, taken)
            taken.add(key)
            keys[pid] = key
    return keys


def _suffixed(base: str, i: int, taken: set[str]) -> str:
    letters = "bcdefghijklmnopqrstuvwxyz"
    key = base + letters[i - 1] if i - 1 < len(letters) else f"{base}_{i + 1}"
    n = i + 1
    while key in taken:  # a suffixed key that is itself another paper's base: step on
        n += 1
        key = f"{base}_{n}"
    return key


def _bib_braced(value: str) -> str:
    """A raw value (URL, DOI, id) inside braces: only unbalanced braces need removing."""
    return value.replace("{", "").replace("}", "")


def _bib_entry(key: str, p: dict[str, Any], authors: list[str], labels: dict[str, list[str]]) -> str:
    venue = p.get("venue") or ""
    arxiv_id = p.get("arxiv_id")
    is_arxiv_venue = not venue or "arxiv" in venue.lower()
    if is_arxiv_venue:
        kind = "misc"
    elif _CONFERENCE.search(venue):
        kind = "inproceedings"
    else:
        kind = "article"
    fields: list[tuple[str, str]] = []
    if p.get("title"):
        fields.append(("title", "{" + _protect_case(latex_escape(p["title"])) + "}"))
    names = []
    for name in authors:
        esc = latex_escape(name)
        if not esc:
            continue
        # a comma or " and " inside one name would split it: brace it as one unit
        names.append("{" + esc + "}" if ("," in name or " and " in name) else esc)
    if names:
        fields.append(("author", "{" + " and ".join(names) + "}"))
    if p.get("year") is not None:
        fields.append(("year", "{" + str(int(p["year"])) + "}"))
    pub = p.get("publication_date") or ""
    if re.match(r"^\d{4}-\d{2}", pub) and 1 <= int(pub[5:7]) <= 12:
        fields.append(("month", _MONTHS[int(pub[5:7]) - 1]))
    if kind == "article":
        fields.append(("journal", "{" + latex_escape(venue) + "}"))
    elif kind == "inproceedings":
        fields.append(("booktitle", "{" + latex_escape(venue) + "}"))
    if arxiv_id:
        fields.append(("eprint", "{" + _bib_braced(arxiv_id) + "}"))
        fields.append(("archivePrefix", "{arXiv}"))
    if p.get("doi"):
        fields.append(("doi", "{" + _bib_braced(p["doi"]) + "}"))
    url = paper_link(p)
    if url:
        fields.append(("url", "{" + _bib_braced(url) + "}"))
    if p.get("abstract"):
        fields.append(("abstract", "{" + latex_escape(p["abstract"]) + "}"))
    tags = [f"{facet}:{v}" for facet in _facet_order({"x": labels}) for v in sorted(labels.get(facet, []))]
    if tags:
        fields.append(("keywords", "{" + latex_escape(", ".join(tags)) + "}"))
    body = ",\n".join(f"  {name} = {value}" for name, value in fields)
    return f"@{kind}{{{key},\n{body}\n}}\n"


def export_bibtex(
    db: sqlite_utils.Database, out: Output, *, relevance: Sequence[str] | None = None
) -> ExportReport:
    """Write a BibTeX file of the papers (see the module docstring), ordered by citation key."""
    keys = compute_citation_keys(db)
    authors = store.load_authors(db)
    labels = _labels_by_paper(db)
    keep = _selected(labels, relevance)
    papers = sorted((p for p in _papers(db) if keep(p["paper_id"])), key=lambda p: keys[p["paper_id"]])
    with open_text(out, protect=store.database_file(db)) as fh:
        fh.write("% Exported by rlmllm-graph. Import into Zotero with File > Import.\n\n")
        for p in papers:
            fh.write(_bib_entry(keys[p["paper_id"]], p, authors.get(p["paper_id"], []),
                                labels.get(p["paper_id"], {})))
            fh.write("\n")
    return ExportReport("bibtex", papers=len(papers))


# --- CSV -----------------------------------------------------------------------------------

CSV_COLUMNS = (
    "paper_id", "title", "year", "publication_date", "venue", "arxiv_id", "doi", "url",
    "citation_count", "reference_count", "hop", "authors",
)


def _cell(value: Any) -> Any:
    if value is None or _isnan(value):
        return ""
    return value


def export_csv(
    db: sqlite_utils.Database, out: Output, *, relevance: Sequence[str] | None = None
) -> ExportReport:
    """Write a CSV of the papers with their labels.

    Columns: ``paper_id, title, year, publication_date, venue, arxiv_id, doi,
    url, citation_count, reference_count, hop, authors`` (names joined by
    ``;``), one column per label facet (``relevance, modality, algorithm,
    paradigm, reward, strategy, application`` and any other facet found; values
    joined by ``;``), then ``abstract``. Rows in ``paper_id`` order.
    """
    authors = store.load_authors(db)
    labels = _labels_by_paper(db)
    facets = _facet_order(labels)
    keep = _selected(labels, relevance)
    n = 0
    with open_text(out, protect=store.database_file(db)) as fh:
        w = csv.writer(fh)
        w.writerow([*CSV_COLUMNS, *facets, "abstract"])
        for p in _papers(db):
            pid = p["paper_id"]
            if not keep(pid):
                continue
            row = [_cell(p.get(c)) for c in CSV_COLUMNS[:-1]]
            row.append(";".join(authors.get(pid, [])))
            mine = labels.get(pid, {})
            row += [";".join(sorted(mine.get(f, []))) for f in facets]
            row.append(_cell(p.get("abstract")))
            w.writerow(row)
            n += 1
    return ExportReport("csv", papers=n)


# --- GraphML / GEXF ------------------------------------------------------------------------

_INT_ATTRS = ("year", "citation_count", "hop", "in_corpus_citations", "in_corpus_references", "community")
_FLOAT_ATTRS = ("pagerank",)
_SKIP_ATTRS = frozenset({"labels", "start", "end", "viz", "pid", "id"})


def _scalar(value: Any) -> Any:
    """A value Gephi can type: None stays None (left out), lists are joined, numpy → Python."""
    if value is None:
        return None
    if hasattr(value, "item") and not isinstance(value, (list, tuple, set, dict, str)):
        try:
            value = value.item()
        except (TypeError, ValueError):
            pass
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, str):
        return _CONTROL.sub(" ", value)
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value, key=str) if isinstance(value, (set, frozenset)) else value
        return _CONTROL.sub(" ", ";".join(str(v) for v in items if v is not None))
    if isinstance(value, dict):
        return _CONTROL.sub(" ", json.dumps(value, sort_keys=True, default=str))
    return _CONTROL.sub(" ", str(value))


def build_export_graph(
    db: sqlite_utils.Database, *, relevance: Sequence[str] | None = None, seed: int = 42
) -> nx.DiGraph:
    """The citation graph with flat, typed node attributes for GraphML/GEXF.

    Nodes carry ``label`` (the model name or a short title), ``title``,
    ``year``, ``publication_date``, ``venue``, ``arxiv_id``, ``doi``, ``url``,
    ``citation_count``, ``hop``, ``authors`` (joined by ``;``), ``pagerank``,
    ``in_corpus_citations``, ``in_corpus_references``, ``community``,
    ``community_name``, and one string attribute per label facet (values joined
    by ``;``, ``""`` when none). Attributes with no value are left out, never
    ``None``. PageRank and communities are computed on the whole graph before
    any ``relevance`` filter.
    """
    import networkx as nx

    from .analysis import compute_node_metrics
    from .graph import build_citation_graph

    G = build_citation_graph(db)
    metrics: dict[str, dict[str, Any]] = {}
    if G.number_of_nodes():
        df = compute_node_metrics(G, seed=seed)
        metrics = {str(k): v for k, v in df.to_dict("index").items()}
    facets = _facet_order({n: d.get("labels") or {} for n, d in G.nodes(data=True)})
    labels = {n: d.get("labels") or {} for n, d in G.nodes(data=True)}
    keep = _selected(labels, relevance)
    H = nx.DiGraph()
    for n, data in G.nodes(data=True):
        if not keep(n):
            continue
        attrs: dict[str, Any] = {
            "label": model_name(data.get("title"), fallback=data.get("arxiv_id") or str(n)),
        }
        for k, v in data.items():
            if k not in _SKIP_ATTRS:
                attrs[k] = v
        for k, v in metrics.get(str(n), {}).items():
            attrs[k] = v
        node_labels = data.get("labels") or {}
        for facet in facets:
            attrs[facet] = ";".join(sorted(node_labels.get(facet, [])))
        clean: dict[str, Any] = {}
        for k, v in attrs.items():
            v = _scalar(v)
            if v is None:
                continue
            if k in _INT_ATTRS and isinstance(v, (int, float)) and not isinstance(v, bool):
                v = int(v)
            elif k in _FLOAT_ATTRS and isinstance(v, (int, float)):
                v = float(v)
            clean[str(k)] = v
        H.add_node(str(n), **clean)
    for u, v, data in G.edges(data=True):
        if str(u) in H and str(v) in H:
            H.add_edge(str(u), str(v), **{k: s for k, s in ((k, _scalar(x)) for k, x in data.items())
                                          if s is not None and k not in _SKIP_ATTRS})
    return H


def _write_xml(db: sqlite_utils.Database, out: Output, lines: Iterable[str]) -> None:
    with open_text(out, protect=store.database_file(db)) as fh:
        fh.write('<?xml version="1.0" encoding="UTF-8"?>\n')  # networkx's generators leave it out
        for line in lines:
            fh.write(line)
            fh.write("\n")


def export_graphml(
    db: sqlite_utils.Database, out: Output, *, relevance: Sequence[str] | None = None
) -> ExportReport:
    """Write the citation graph as GraphML (Gephi: File > Open); attributes as :func:`build_export_graph`."""
    import networkx as nx

    H = build_export_graph(db, relevance=relevance)
    _write_xml(db, out, nx.generate_graphml(H))
    return ExportReport("graphml", papers=H.number_of_nodes(), edges=H.number_of_edges())


def export_gexf(
    db: sqlite_utils.Database, out: Output, *, relevance: Sequence[str] | None = None
) -> ExportReport:
    """Write the citation graph as GEXF 1.2 (Gephi's own format); attributes as :func:`build_export_graph`."""
    import networkx as nx

    H = build_export_graph(db, relevance=relevance)
    _write_xml(db, out, nx.generate_gexf(H, version="1.2draft"))
    return ExportReport("gexf", papers=H.number_of_nodes(), edges=H.number_of_edges())


# --- JSONL (Semantic Scholar shape) --------------------------------------------------------


def _edge_item(other: str, infl: Any, intents: Any, wrapper: str) -> Any:
    infl = None if infl is None or _isnan(infl) else bool(infl)
    if isinstance(intents, str):
        try:
            intents = json.loads(intents)
        except ValueError:
            intents = [intents]
    if intents is not None and not isinstance(intents, list):
        intents = None
    if infl is None and not intents:
        return other
    return {wrapper: {"paperId": other}, "isInfluential": infl, "intents": intents or None}


def export_jsonl(
    db: sqlite_utils.Database, out: Output, *, relevance: Sequence[str] | None = None
) -> ExportReport:
    """Write one Graph API paper object a line, which ``rlmllm-graph import`` reads back.

    Each line has ``paperId``, ``corpusId``, ``externalIds``, ``title``,
    ``abstract``, ``year``, ``publicationDate``, ``venue``, ``citationCount``,
    ``referenceCount``, ``url``, ``authors`` (``authorId``, ``name``) and
    ``references``: the ids the paper cites (an edge with ``isInfluential`` or
    ``intents`` is written as a ``{"citedPaper": …}`` item so they survive).
    Citations from papers that are not stored go in the cited paper's
    ``citations``. Labels, ``hop`` and timestamps are not part of the shape.
    """
    labels = _labels_by_paper(db) if relevance else {}
    keep = _selected(labels, relevance)
    papers = _papers(db)
    stored = {p["paper_id"] for p in papers}
    authors = store.load_paper_authors(db)
    refs: dict[str, list[Any]] = {}
    cited_by_outside: dict[str, list[Any]] = {}
    skipped = 0
    edges = 0
    cites = store.load_citations(db, stored_only=False)
    for citing, cited, infl, intents in zip(
        cites["citing_id"], cites["cited_id"], cites["is_influential"], cites["intents"]
    ):
        infl = None if infl is None or _isnan(infl) else infl
        intents = None if intents is None or _isnan(intents) else intents
        if citing in stored:
            refs.setdefault(citing, []).append(_edge_item(cited, infl, intents, "citedPaper"))
        elif cited in stored:
            cited_by_outside.setdefault(cited, []).append(_edge_item(citing, infl, intents, "citingPaper"))
        else:
            skipped += 1
    n = 0
    with open_text(out, protect=store.database_file(db)) as fh:
        for p in papers:
            pid = p["paper_id"]
            if not keep(pid):
                continue
            ext = json.loads(p["external_ids"]) if p.get("external_ids") else None
            # the API shape keys arXiv and DOI as "ArXiv"/"DOI"; bulk records may have used other spellings
            for key, column in (("ArXiv", "arxiv_id"), ("DOI", "doi")):
                if p.get(column) and not (ext or {}).get(key):
                    ext = {**(ext or {}), key: p[column]}
            obj: dict[str, Any] = {
                "paperId": pid,
                "corpusId": p.get("corpus_id"),
                "externalIds": ext,
                "title": p.get("title"),
                "abstract": p.get("abstract"),
                # an older database may hold years and dates import now refuses: written as unknown
                "year": plausible_year(p.get("year")),
                "publicationDate": plausible_date(p.get("publication_date")),
                "venue": p.get("venue"),
                "citationCount": p.get("citation_count"),
                "referenceCount": p.get("reference_count"),
                "url": p.get("url"),
                "authors": [{"authorId": a, "name": name} for a, name in authors.get(pid, [])],
                "references": refs.get(pid, []),
            }
            edges += len(obj["references"])
            if pid in cited_by_outside:
                obj["citations"] = cited_by_outside[pid]
                edges += len(obj["citations"])
            fh.write(json.dumps(obj, ensure_ascii=False) + "\n")
            n += 1
    return ExportReport("jsonl", papers=n, edges=edges, skipped_edges=skipped)


# --- dispatch ------------------------------------------------------------------------------

EXPORT_FORMATS: dict[str, Callable[..., ExportReport]] = {
    "bibtex": export_bibtex,
    "csv": export_csv,
    "graphml": export_graphml,
    "gexf": export_gexf,
    "jsonl": export_jsonl,
}


def export_database(
    db: sqlite_utils.Database, out: Output, *, format: str, relevance: Sequence[str] | None = None
) -> ExportReport:
    """Write the export named by ``format`` (a key of :data:`EXPORT_FORMATS`) to ``out``."""
    try:
        fn = EXPORT_FORMATS[format]
    except KeyError:
        raise BadInput(f"unknown export format {format!r} (choose from {', '.join(EXPORT_FORMATS)})") from None
    return fn(db, out, relevance=relevance)
