"""data/datasette-metadata.json fits the schema, and its canned queries run (datasette itself is optional)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from taxonomy_fixture import build_taxonomy_db, pid

METADATA = Path(__file__).resolve().parents[1] / "data" / "datasette-metadata.json"


@pytest.fixture(scope="module")
def metadata() -> dict:
    return json.loads(METADATA.read_text(encoding="utf-8"))


@pytest.fixture
def tdb(tmp_path: Path):
    d = build_taxonomy_db(tmp_path / "rlmllm.db")
    yield d
    d.conn.close()


def test_tables_facets_and_columns_exist(metadata: dict, tdb) -> None:
    db_meta = metadata["databases"]["rlmllm"]  # datasette names the database after the file: rlmllm.db
    tables = set(tdb.table_names())
    for name, meta in db_meta["tables"].items():
        if meta.get("hidden"):
            continue
        assert name in tables, name
        columns = set(tdb[name].columns_dict)
        for col in [*meta.get("facets", []), *meta.get("columns", {}), meta.get("label_column"),
                    meta.get("sort"), meta.get("sort_desc")]:
            assert col is None or col in columns, f"{name}.{col}"


def _run(tdb, sql: str, **params: str) -> list[tuple]:
    assert set(re.findall(r":(\w+)", sql)) == set(params)
    return tdb.execute(sql, params).fetchall()


def test_canned_queries_run_on_the_fixture(metadata: dict, tdb) -> None:
    q = {name: meta["sql"] for name, meta in metadata["databases"]["rlmllm"]["queries"].items()}
    core = _run(tdb, q["core_papers"])
    assert [r[0] for r in core] == [pid(6), pid(4), pid(7), pid(3), pid(2)]
    assert core[1][3:8] == ("audio, video", "sft+rl", "dpo, grpo", "model, process", "general")
    video = _run(tdb, q["papers_with_label"], facet="modality", value="video")
    assert [r[0] for r in video] == [pid(4), pid(3)]
    months = _run(tdb, q["label_counts_by_month"], facet="reward")
    assert ("2025-03", "rule", 2) in months
    assert sorted(_run(tdb, q["video_rewards_by_month"])) == [
        ("2025-03", "rule", 1), ("2025-05", "model", 1), ("2025-05", "process", 1)
    ]
    top = _run(tdb, q["most_cited_in_corpus"])
    assert top[0][:1] == (pid(2),) and top[0][3] == 5
