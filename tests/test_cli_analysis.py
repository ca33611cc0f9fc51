"""`graph` and `trends` commands: output shapes, files written, errors."""

from __future__ import annotations

import json

import pytest

from analysis_fixture import fill_small


def test_graph_json_shape(db, invoke):
    fill_small(db)
    r = invoke("graph", "--json", "--top", "2")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["nodes"] == 6 and out["edges"] == 6
    assert len(out["top"]) == 2
    assert set(out["top"][0]) == {"paper_id", "title", "pagerank", "in_corpus_citations", "community"}
    assert out["top"][0]["paper_id"] == "p1"
    assert all({"id", "name", "size", "top_papers", "dominant_tags"} <= set(c) for c in out["communities"])
    assert {"lineage", "discovery", "cocitation"} <= set(out)


def test_graph_text(db, invoke):
    fill_small(db)
    r = invoke("graph", "--top", "3")
    assert r.exit_code == 0
    assert "Citation graph: 6 papers, 6 citations" in r.stdout
    assert "Top 3 papers by PageRank" in r.stdout and "GRPO for video grounding" in r.stdout
    assert "Communities" in r.stdout and "Lineage" in r.stdout


def test_graph_on_empty_database_is_one_error_line(db, invoke):
    r = invoke("graph")
    assert r.exit_code == 1
    assert r.stdout == ""
    assert r.stderr.startswith("Error: nothing to analyse") and r.stderr.count("\n") == 1


def test_graph_on_missing_database(invoke, tmp_path):
    r = invoke("graph", "--db", str(tmp_path / "nope.db"), db=False)
    assert r.exit_code == 1 and r.stderr.startswith("Error: no database at")


def test_trends_text_and_json(db, invoke):
    fill_small(db)
    r = invoke("trends")
    assert r.exit_code == 0, r.stderr
    assert "4 papers" in r.stdout and "modality" in r.stdout and "Emerging" in r.stdout
    j = invoke("trends", "--json", "--facet", "algorithm", "--freq", "Y")
    out = json.loads(j.stdout)
    assert out["facets"] == ["algorithm"] and out["freq"] == "Y"
    rows = out["trends"]["algorithm"]
    assert set(rows[0]) == {"period", "value", "count", "total", "labelled", "share", "cumulative", "growth"}
    assert {(x["period"], x["value"], x["count"]) for x in rows} >= {("2024", "grpo", 2), ("2024", "ppo", 1)}


def test_trends_out_writes_tables_and_charts(db, invoke, tmp_path):
    fill_small(db)
    out = tmp_path / "charts"
    r = invoke("trends", "--out", str(out), "--relevance", "all")
    assert r.exit_code == 0, r.stderr
    names = {p.name for p in out.iterdir()}
    assert {"index.html", "plotly.min.js", "papers_per_period.csv", "trends_algorithm.csv", "trends_modality.csv",
            "emerging.csv", "papers_per_period.html", "trends_algorithm.html", "share_algorithm.html", "heatmap.html", "timeline.html",
            "cooccurrence_modality_algorithm.csv"} <= names
    page = (out / "trends_algorithm.html").read_text()
    assert 'src="plotly.min.js"' in page and "cdn" not in page.split("<body>")[0].lower()
    assert "Wrote" in r.stdout and "index.html" in r.stdout
    header = (out / "trends_algorithm.csv").read_text().splitlines()[0]
    assert header == "period,value,count,total,labelled,share,cumulative,growth"


def test_trends_errors(db, invoke):
    r = invoke("trends")
    assert r.exit_code == 1 and r.stderr.startswith("Error: nothing to chart")
    fill_small(db)
    r = invoke("trends", "--facet", "colour")
    assert r.exit_code == 2 and "unknown facet 'colour'" in r.stderr


@pytest.mark.parametrize("args, message", [
    (["trends", "--relevance", "bogus"], "Invalid value for '--relevance': 'bogus' is not a relevance label: "
                                         "use core, related, other (comma-separated), or 'all'"),
    (["trends", "--relevance", "core,bogus"], "'bogus' is not a relevance label"),
    (["trends", "--relevance", " , "], "Invalid value for '--relevance': needs at least one value, or 'all'"),
    (["trends", "--recent-months", "99999999999999999999999"], "is not in the range 1<=x<=1200"),
    (["trends", "--recent-months", "0"], "is not in the range 1<=x<=1200"),
    (["graph", "--seed", "-1"], "Invalid value for '--seed': -1 is not in the range x>=0"),
    (["report", "--seed", "-1", "--out", "site"], "Invalid value for '--seed': -1 is not in the range x>=0"),
    (["serve", "--seed", "-1"], "Invalid value for '--seed': -1 is not in the range x>=0"),
])
def test_bad_option_values_are_usage_errors(db, invoke, args, message):
    fill_small(db)
    r = invoke(*args)
    assert r.exit_code == 2
    err = r.stderr.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("Error: ") and message in err[0], r.stderr


def test_trends_relevance_values(db, invoke):
    fill_small(db)
    default = json.loads(invoke("trends", "--json").stdout)
    assert json.loads(invoke("trends", "--relevance", "Related, CORE", "--json").stdout) == default
    every = json.loads(invoke("trends", "--relevance", "all", "--json").stdout)
    assert every["papers"] > default["papers"]
    assert invoke("trends", "--recent-months", "1200").exit_code == 0


def test_library_refuses_seeds_and_windows_it_cannot_use(db):
    from rlmllm_graph.errors import BadInput
    from rlmllm_graph.site import load_site_data
    from rlmllm_graph.trends import compute_trends_report

    fill_small(db)
    with pytest.raises(BadInput, match="seed must be 0 or more"):
        load_site_data(db, seed=-1)
    with pytest.raises(BadInput, match="recent_months must be between 1 and 1200"):
        compute_trends_report(db, recent_months=10**23)


def test_trends_without_labels(db, invoke):
    from analysis_fixture import SMALL_PAPERS, fill

    fill(db, SMALL_PAPERS)
    r = invoke("trends")
    assert r.exit_code == 0 and "run `rlmllm-graph classify` first" in r.stdout


def test_help_has_examples(invoke):
    for cmd in ("graph", "trends"):
        r = invoke(cmd, "--help", db=False)
        assert r.exit_code == 0 and "Examples:" in r.stdout and f"rlmllm-graph {cmd}" in r.stdout


def test_trends_out_never_writes_over_the_database(db, db_path, invoke, tmp_path):
    import shutil

    from rlmllm_graph import store
    from rlmllm_graph.cli import cli
    from click.testing import CliRunner

    fill_small(db)
    site = tmp_path / "charts"
    site.mkdir()
    inside = site / "emerging.csv"  # a database that happens to carry one of the names trends writes
    db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    shutil.copy(db_path, inside)
    r = CliRunner().invoke(cli, ["trends", "--out", str(site), "--relevance", "all", "--db", str(inside)])
    assert r.exit_code == 2
    assert r.stderr.splitlines() == [
        f"Error: --out {inside} is the database; writing there would destroy it; choose another file"
    ]
    assert sorted(p.name for p in site.iterdir() if not p.name.startswith("emerging.csv-")) == ["emerging.csv"]
    check = store.open_db(inside, create=False)
    assert store.paper_count(check) == 6
    check.conn.close()


def test_trends_out_under_a_file_is_a_usage_error(db, invoke, tmp_path):
    fill_small(db)
    afile = tmp_path / "afile"
    afile.write_text("x")
    r = invoke("trends", "--out", str(afile / "charts"), "--relevance", "all")
    assert r.exit_code == 2
    assert r.stderr.splitlines() == [f"Error: cannot create folder {afile / 'charts'}: a file is in the way"]
