"""A small labelled database for the export, table and notebook tests.

Eight papers (``tests/fixtures/taxonomy_corpus.jsonl``: the survey, five core
papers with every modality, a DOI-only conference paper, a title full of
LaTeX and Markdown specials, two papers sharing a BibTeX key base, one paper
with no title) and their labels (``taxonomy_labels.jsonl``, inserted with
``store.insert_labels`` as the classifier would).

Also a script, to get a database to open the notebook against::

    .venv/bin/python tests/taxonomy_fixture.py /tmp/demo.db
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import sqlite_utils

from rlmllm_graph import store
from rlmllm_graph.ingest import import_files

FIXTURES = Path(__file__).resolve().parent / "fixtures"
CORPUS = FIXTURES / "taxonomy_corpus.jsonl"
LABELS = FIXTURES / "taxonomy_labels.jsonl"


def pid(n: int) -> str:
    """The fixture's n-th paper id."""
    return "bbbb%036d" % n


def build_taxonomy_db(path: Path) -> sqlite_utils.Database:
    """Create the fixture database at ``path`` and return it open."""
    db = store.open_db(path)
    import_files(db, [CORPUS])
    rows = [json.loads(line) for line in LABELS.read_text().splitlines() if line.strip()]
    with store.transaction(db):
        store.insert_labels(db, rows)
    return db


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "taxonomy-fixture.db")
    if target.exists():
        sys.exit(f"{target} exists; give a new path")
    build_taxonomy_db(target).conn.close()
    print(f"wrote {target}")
