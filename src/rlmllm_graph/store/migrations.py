"""The schema, as an ordered list of migrations; ``PRAGMA user_version`` is the schema version.

Add a change as a new function at the end of :data:`MIGRATIONS`; never edit an
old one (databases in the wild have already run it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import sqlite_utils  # annotations only: sqlite-utils imports pandas when it is imported

__all__ = ["MIGRATIONS", "SCHEMA_VERSION"]


def m001_initial(db: sqlite_utils.Database) -> None:
    db["papers"].create(
        {
            "paper_id": str,
            "corpus_id": int,
            "arxiv_id": str,
            "doi": str,
            "title": str,
            "abstract": str,
            "year": int,
            "publication_date": str,
            "venue": str,
            "citation_count": int,
            "reference_count": int,
            "url": str,
            "external_ids": str,
            "hop": int,
            "first_seen": str,
            "updated_at": str,
        },
        pk="paper_id",
    )
    db["papers"].create_index(["arxiv_id"])
    db["papers"].create_index(["doi"])
    db["papers"].create_index(["corpus_id"])
    db["authors"].create({"author_id": str, "name": str}, pk="author_id")
    db["paper_authors"].create(
        {"paper_id": str, "author_id": str, "position": int},
        pk=("paper_id", "position"),
    )
    db["paper_authors"].create_index(["author_id"])
    db["citations"].create(
        {"citing_id": str, "cited_id": str, "is_influential": int, "intents": str},
        pk=("citing_id", "cited_id"),
    )
    db["citations"].create_index(["cited_id"])
    db["labels"].create(
        {
            "paper_id": str,
            "facet": str,
            "value": str,
            "confidence": float,
            "source": str,
            "evidence": str,
        },
        pk=("paper_id", "facet", "value"),
    )
    db["labels"].create_index(["facet", "value"])
    # which text a paper was last classified from, so unchanged papers are skipped
    db["classified"].create(
        {"paper_id": str, "text_hash": str, "classifier_version": str, "classified_at": str},
        pk="paper_id",
    )
    db["crawl_runs"].create(
        {
            "run_id": int,
            "started_at": str,
            "finished_at": str,
            "seeds": str,
            "depth": int,
            "max_papers": int,
            "api_url": str,
            "requests": int,
            "papers_added": int,
            "edges_added": int,
            "status": str,
        },
        pk="run_id",
    )
    db["papers"].enable_fts(["title", "abstract"], create_triggers=True, tokenize="porter")


def m002_crawl_state(db: sqlite_utils.Database) -> None:
    """The crawler's resumable state: the frontier of the current run, and per-paper crawl facts.

    Plain SQL on purpose: this runs inside the migration transaction, and
    sqlite-utils' table helpers may commit on their own.
    """
    for column, kind in (
        ("expand", "TEXT"),  # 'all' or 'core'
        ("level", "INTEGER"),  # NULL: seeds not resolved yet; n: levels < n fully expanded and fetched
        ("papers_before", "INTEGER"),
        ("edges_before", "INTEGER"),
        ("papers_skipped", "INTEGER"),  # ids left out because of --max-papers
        ("error", "TEXT"),
    ):
        db.execute(f"ALTER TABLE crawl_runs ADD COLUMN {column} {kind}")
    db.execute(
        """
        CREATE TABLE crawl_frontier (
            paper_id TEXT PRIMARY KEY,
            run_id INTEGER NOT NULL,
            seq INTEGER NOT NULL,            -- discovery order: the crawl is deterministic
            hop INTEGER NOT NULL,
            meta INTEGER NOT NULL DEFAULT 0, -- 0 to fetch, 1 stored, 2 unknown to the API, 3 left out (max_papers)
            refs INTEGER NOT NULL DEFAULT 0, -- 0 by batch, 1 by pages, 2 complete, 3 known from an earlier run
            refs_next INTEGER,               -- next /references offset while paging
            ref_hint INTEGER,                -- referenceCount as last seen (packs batches under the nested budget)
            rebatched INTEGER NOT NULL DEFAULT 0,
            expand INTEGER,                  -- 1 expand, 0 do not, NULL not decided yet
            cites_next INTEGER,              -- next /citations offset; NULL not started, -1 done
            expanded INTEGER NOT NULL DEFAULT 0
        )
        """
    )
    db.execute("CREATE INDEX crawl_frontier_hop ON crawl_frontier (hop, seq)")
    db.execute("CREATE UNIQUE INDEX crawl_frontier_seq ON crawl_frontier (seq)")
    db.execute(
        """
        CREATE TABLE crawl_papers (
            paper_id TEXT PRIMARY KEY,
            refs_at TEXT,    -- when the complete reference list was stored (references rarely change)
            citers_at TEXT   -- when every citer was last listed
        )
        """
    )


def m003_citations_without_rowid(db: sqlite_utils.Database) -> None:
    """Citations keyed by their primary key alone (``WITHOUT ROWID``), with no second index.

    An edge is only its two ids: dropping the hidden rowid b-tree makes a
    million-edge load about a fifth faster and the file smaller. The
    ``cited_id`` index goes too: no query of ours looks edges up by the cited
    paper (the loaders scan, the crawler asks by ``citing_id``, the primary
    key's prefix), and rebuilding it cost 1.4 s a million edges on every bulk load.
    """
    db.execute(
        """
        CREATE TABLE citations_new (
            citing_id TEXT NOT NULL,
            cited_id TEXT NOT NULL,
            is_influential INTEGER,
            intents TEXT,
            PRIMARY KEY (citing_id, cited_id)
        ) WITHOUT ROWID
        """
    )
    db.execute("INSERT INTO citations_new SELECT citing_id, cited_id, is_influential, intents FROM citations")
    db.execute("DROP TABLE citations")
    db.execute("ALTER TABLE citations_new RENAME TO citations")


def m004_manual_none(db: sqlite_utils.Database) -> None:
    """Facets a person has set to "none" by hand (``label ID modality=none``: text only).

    A manual value is a ``labels`` row; a manual "nothing" has no row to carry
    it, so it lives here, and the classifier leaves these facets empty as it
    leaves manual values alone.
    """
    db.execute(
        """
        CREATE TABLE manual_none (
            paper_id TEXT NOT NULL,
            facet TEXT NOT NULL,
            set_at TEXT,
            PRIMARY KEY (paper_id, facet)
        ) WITHOUT ROWID
        """
    )


def m005_fulltext_and_routes(db: sqlite_utils.Database) -> None:
    """Full text by section, where each label's evidence came from, and how each paper was found.

    - ``sections``: a paper's text, one row per section in reading order;
      ``text`` is zlib-compressed UTF-8 (``store.sections`` packs and unpacks it).
    - ``fulltext_papers``: per paper, the outcome of the last full-text fetch
      (so a resumed or incremental run fetches nothing twice).
    - ``fulltext_runs``: one row per ``fulltext`` run, like ``crawl_runs``.
    - ``labels.evidence_source``: ``title``, ``abstract``, a section title, or ``manual``.
    - ``papers.found_by`` / ``papers.found_via``: the route that first brought a
      paper in (``seed``, ``cites-seed``, ``cited-by-seed``, ``query``,
      ``expansion``, ``import``, ``snapshot``) and what it came through (the
      query text or the paper it was expanded from).
    """
    db.execute(
        """
        CREATE TABLE sections (
            paper_id TEXT NOT NULL,
            position INTEGER NOT NULL,
            title TEXT,
            text BLOB,          -- zlib-compressed UTF-8
            source TEXT,        -- arxiv-html, arxiv-latex, s2-snippets
            version TEXT,       -- arXiv vN, where known
            licence TEXT,
            fetched_at TEXT,
            PRIMARY KEY (paper_id, position)
        ) WITHOUT ROWID
        """
    )
    db.execute(
        """
        CREATE TABLE fulltext_papers (
            paper_id TEXT PRIMARY KEY,
            status TEXT NOT NULL,  -- fetched, no-text, missing, error
            source TEXT,
            version TEXT,
            bytes INTEGER,
            requests INTEGER,
            checked_at TEXT,
            error TEXT
        )
        """
    )
    db.execute(
        """
        CREATE TABLE fulltext_runs (
            run_id INTEGER PRIMARY KEY,
            started_at TEXT,
            finished_at TEXT,
            arxiv_url TEXT,
            requests INTEGER,
            papers_fetched INTEGER,
            papers_without_text INTEGER,
            papers_failed INTEGER,
            status TEXT,
            error TEXT
        )
        """
    )
    db.execute("ALTER TABLE labels ADD COLUMN evidence_source TEXT")
    db.execute("ALTER TABLE papers ADD COLUMN found_by TEXT")
    db.execute("ALTER TABLE papers ADD COLUMN found_via TEXT")


def m006_numbers_no_self_citations(db: sqlite_utils.Database) -> None:
    """A paper citing itself is not a citation: drop the ones stored and refuse new ones.

    Semantic Scholar sometimes lists a paper among its own references (merged
    versions of one paper); counted, such an edge made ``stats``, ``graph``, the
    report and the exports disagree. The trigger makes every write path skip it.
    """
    db.execute("DELETE FROM citations WHERE citing_id = cited_id")
    db.execute(
        "CREATE TRIGGER citations_no_self BEFORE INSERT ON citations "
        "WHEN NEW.citing_id = NEW.cited_id BEGIN SELECT RAISE(IGNORE); END"
    )


def m007_queries_state(db: sqlite_utils.Database) -> None:
    """Field queries of a crawl run, resumable page by page, and the route of each frontier paper.

    - ``crawl_runs.queries``: the run's field queries (JSON), part of its parameters.
    - ``crawl_queries``: one row per query of a run: the continuation ``token``
      of the next page, pages read, the hits the API counts, the hits seen, kept
      and called core, and whether the query is done.
    - ``crawl_frontier.found_by`` / ``found_via``: how this run reached the paper
      (written to ``papers.found_by`` / ``found_via`` when the paper is stored).
    """
    db.execute("ALTER TABLE crawl_runs ADD COLUMN queries TEXT")
    db.execute("ALTER TABLE crawl_frontier ADD COLUMN found_by TEXT")
    db.execute("ALTER TABLE crawl_frontier ADD COLUMN found_via TEXT")
    db.execute(
        """
        CREATE TABLE crawl_queries (
            run_id INTEGER NOT NULL,
            position INTEGER NOT NULL,
            query TEXT NOT NULL,
            filters TEXT,                     -- JSON: year, publicationDateOrYear, fieldsOfStudy, sort
            token TEXT,                       -- continuation token of the next page; NULL before the first
            pages INTEGER NOT NULL DEFAULT 0,
            total INTEGER,                    -- hits as the API counts them
            hits INTEGER NOT NULL DEFAULT 0,  -- hits read
            kept INTEGER NOT NULL DEFAULT 0,  -- hits stored (core or related)
            core INTEGER NOT NULL DEFAULT 0,  -- hits the classifier calls core (they become seeds)
            done INTEGER NOT NULL DEFAULT 0,  -- 1 last page read, 2 stopped by the page budget
            PRIMARY KEY (run_id, position)
        )
        """
    )


def m008_offline_changes(db: sqlite_utils.Database) -> None:
    """What each refresh (or snapshot load) added and changed, so ``changes`` can say it.

    - ``crawl_runs.kind``: NULL for a crawl, ``snapshot`` for a load of the bundled snapshot.
    - ``change_runs``: the runs whose changes were recorded (from this migration on).
    - ``paper_first_run``: the run that first stored each paper; 0 for papers stored before.
    - ``label_checkpoint``: every paper's label values at the start of the last run (as ``labels`` rows);
      ``label_changes``: what differed at the start of the next run (before/after, comma-joined values).
    - ``citation_counts``: in-corpus citations of a paper after a run, a row only when it changed.
    """
    db.execute("ALTER TABLE crawl_runs ADD COLUMN kind TEXT")
    db.execute(
        """
        CREATE TABLE change_runs (
            run_id INTEGER PRIMARY KEY,  -- crawl_runs.run_id
            started_at TEXT,
            finished_at TEXT,
            papers_added INTEGER,
            papers_merged INTEGER,       -- stand-in (snapshot) rows merged into the same paper's Semantic Scholar row
            labels_changed INTEGER       -- label changes recorded for the run (set when the next run starts)
        )
        """
    )
    db.execute(
        "CREATE TABLE paper_first_run (paper_id TEXT PRIMARY KEY, run_id INTEGER NOT NULL) WITHOUT ROWID"
    )
    db.execute("CREATE INDEX paper_first_run_run ON paper_first_run (run_id)")
    db.execute("INSERT INTO paper_first_run (paper_id, run_id) SELECT paper_id, 0 FROM papers")
    db.execute(
        """
        CREATE TABLE label_checkpoint (
            paper_id TEXT NOT NULL,
            facet TEXT NOT NULL,
            value TEXT NOT NULL,
            PRIMARY KEY (paper_id, facet, value)
        ) WITHOUT ROWID
        """
    )
    db.execute(
        """
        CREATE TABLE label_changes (
            run_id INTEGER NOT NULL,
            paper_id TEXT NOT NULL,
            facet TEXT NOT NULL,
            before TEXT NOT NULL,
            after TEXT NOT NULL,
            PRIMARY KEY (run_id, paper_id, facet)
        ) WITHOUT ROWID
        """
    )
    db.execute(
        """
        CREATE TABLE citation_counts (
            paper_id TEXT NOT NULL,
            run_id INTEGER NOT NULL,
            in_corpus INTEGER NOT NULL,
            PRIMARY KEY (paper_id, run_id)
        ) WITHOUT ROWID
        """
    )


def m009_site_layout_cache(db: sqlite_utils.Database) -> None:
    """The report's graph layout, cached until the graph changes (``store.site``).

    - ``site_layout``: one position per paper of the last layout;
    - ``site_layout_meta``: what it was computed for (a signature of the papers
      and their links, the seed, the layout version, how many papers the last
      full computation placed), as key/value text.
    """
    db.execute("CREATE TABLE IF NOT EXISTS site_layout (paper_id TEXT PRIMARY KEY, x REAL NOT NULL, y REAL NOT NULL) "
               "WITHOUT ROWID")
    db.execute("CREATE TABLE IF NOT EXISTS site_layout_meta (key TEXT PRIMARY KEY, value TEXT)")


MIGRATIONS: list[Callable[[sqlite_utils.Database], None]] = [
    m001_initial,
    m002_crawl_state,
    m003_citations_without_rowid,
    m004_manual_none,
    m005_fulltext_and_routes,
    m006_numbers_no_self_citations,
    m007_queries_state,
    m008_offline_changes,
    m009_site_layout_cache,
]
SCHEMA_VERSION = len(MIGRATIONS)
