"""The report site: payload, layout, escaping, the pages written, and the `report` command."""

from __future__ import annotations

import json
import re
from pathlib import Path

import networkx as nx
import numpy as np
import pytest

from rlmllm_graph import store
from rlmllm_graph.analysis import compute_node_metrics
from rlmllm_graph.explore import compute_layout, graph_to_payload, json_for_script
from rlmllm_graph.graph import build_citation_graph
from rlmllm_graph.explore.pack import pack_js, unpack_js
from rlmllm_graph.site import DATA_FILES, MANIFEST, PAGES, build_site, read_site_asset, site_asset_names, site_files

from _site_data import XSS_ABSTRACT, XSS_AUTHOR, XSS_EVIDENCE, XSS_TITLE, XSS_VENUE, fill_db, pid


@pytest.fixture
def site_db(db, tmp_path):
    fill_db(db, tmp_path)
    return db


@pytest.fixture
def site(site_db, tmp_path) -> Path:
    out = tmp_path / "site"
    build_site(site_db, out)
    return out


# ---------------------------------------------------------------- escaping


def test_json_for_script_escapes_what_could_end_a_script_block():
    s = json_for_script({"t": "</script><!-- & \u2028\u2029"})
    assert "<" not in s and ">" not in s and "&" not in s
    assert "\u2028" not in s and "\u2029" not in s
    assert json.loads(s) == {"t": "</script><!-- & \u2028\u2029"}


def test_json_for_script_refuses_nan():
    with pytest.raises(ValueError):
        json_for_script({"x": float("nan")})


# ---------------------------------------------------------------- layout


def test_layout_is_seeded_finite_and_keeps_linked_papers_close():
    G = nx.DiGraph()
    G.add_edges_from((i, (i + 1) % 10) for i in range(10))  # a ring
    G.add_edges_from((100 + i, 100 + (i + 1) % 10) for i in range(10))  # another ring
    G.add_nodes_from(range(200, 230))  # isolated papers
    a = compute_layout(G, seed=3)
    b = compute_layout(G, seed=3)
    assert a.shape == (50, 2) and np.isfinite(a).all()
    assert np.array_equal(a, b)
    assert not np.array_equal(a, compute_layout(G, seed=4))
    idx = {v: i for i, v in enumerate(G)}
    ring1 = a[[idx[i] for i in range(10)]]
    ring2 = a[[idx[100 + i] for i in range(10)]]
    # each ring is tighter than the distance between the rings
    spread = max(np.ptp(ring1, axis=0).max(), np.ptp(ring2, axis=0).max())
    assert np.linalg.norm(ring1.mean(0) - ring2.mean(0)) > 0.5 * spread


def test_layout_of_empty_and_single_node_graphs():
    assert compute_layout(nx.DiGraph()).shape == (0, 2)
    G = nx.DiGraph()
    G.add_node("a")
    assert compute_layout(G).tolist() == [[0.0, 0.0]]


# ---------------------------------------------------------------- payload


def test_payload_columns_edges_facets_and_evidence(site_db):
    G = build_citation_graph(site_db)
    metrics = compute_node_metrics(G)
    p = graph_to_payload(G, metrics, labels=store.load_labels(site_db), seed=1)
    n = G.number_of_nodes()
    assert p["n"] == n == 60
    assert all(len(col) == n for col in p["nodes"].values())
    ids = p["nodes"]["id"]
    # edges are index pairs, citing first
    pairs = {(ids[p["edges"][k]], ids[p["edges"][k + 1]]) for k in range(0, len(p["edges"]), 2)}
    assert pairs == set(G.edges())
    facets = {f["name"]: f for f in p["facets"]}
    assert list(facets)[:7] == ["relevance", "modality", "algorithm", "paradigm", "reward", "strategy", "application"]
    assert {"community", "year"} <= set(facets)
    rel = facets["relevance"]
    assert rel["values"] == ["core", "related", "other"]  # vocabulary order
    i0 = ids.index(pid(0))
    assert [rel["values"][k] for k in rel["members"][i0]] == ["core"]
    assert facets["paradigm"]["values"] == [] and all(m == [] for m in facets["paradigm"]["members"])
    # evidence for the details panel
    labels0 = {(f, v): (c, s, e) for f, v, c, s, e in p["labels"][i0]}
    assert labels0[("algorithm", "grpo")] == (0.95, "model", "with GRPO")
    assert p["years"] == [2019, 2025]
    assert p["nodes"]["pagerank"][i0] == pytest.approx(float(metrics.at[pid(0), "pagerank"]))
    json_for_script(p)  # JSON-able, no NaN


def test_payload_without_metrics_or_labels_and_with_given_positions():
    G = nx.DiGraph()
    G.add_node("a", title=None, year=None)
    G.add_node("b", title="B", year=2024, labels={"modality": ["video", "image"], "custom": ["x"]})
    G.add_edge("a", "b")
    p = graph_to_payload(G, positions={"a": (0, 1), "b": (2, 3)}, abstracts={"b": "word " * 200}, abstract_chars=50)
    assert p["nodes"]["x"] == [0.0, 2.0] and p["nodes"]["y"] == [1.0, 3.0]
    assert p["nodes"]["abstract"][0] is None
    assert len(p["nodes"]["abstract"][1]) <= 50 and p["nodes"]["abstract"][1].endswith(" …")
    assert p["nodes"]["title"] == ["(untitled)", "B"]
    assert p["nodes"]["citations"] == [None, None]  # unknown, not zero
    assert p["nodes"]["pagerank"] == [0.0, 0.0] and p["nodes"]["community"] == [-1, -1]
    facets = {f["name"]: f for f in p["facets"]}
    assert facets["modality"]["values"] == ["image", "video"]
    assert facets["custom"]["values"] == ["x"]  # facets outside the vocabulary are kept
    assert p["labels"] == [[], []]
    assert p["years"] == [2024, 2024]


# ---------------------------------------------------------------- the site


def test_build_site_writes_every_page_and_asset(site):
    for name in PAGES:
        text = (site / name).read_text()
        assert text.startswith("<!DOCTYPE html>") and "</html>" in text
    for name in site_asset_names():
        assert (site / "assets" / name).stat().st_size > 0
    assert (site / "assets" / "plotly.min.js").stat().st_size > 1_000_000
    licences = (site / "assets" / "THIRD_PARTY_LICENSES.txt").read_text()
    assert "plotly.js" in licences and "MIT" in licences
    for name in DATA_FILES:
        assert (site / name).read_bytes().startswith(b'(window.RLM_DATA = window.RLM_DATA || {})["')
    manifest = json.loads((site / MANIFEST).read_text())
    assert sorted(manifest["files"]) == sorted(f for f in site_files() if f != MANIFEST)


def test_pages_load_nothing_from_the_network(site):
    for name in PAGES:
        text = (site / name).read_text()
        srcs = re.findall(r'<script[^>]*\bsrc="([^"]+)"', text) + re.findall(r'<link[^>]*\bhref="([^"]+)"', text)
        assert srcs, name
        for src in srcs:
            assert src.startswith(("assets/", "data/")) or src == "feed.xml", (name, src)  # feed.xml: the Atom feed
            assert (site / src).exists(), (name, src)
        assert "cdn." not in text.lower() and "//unpkg" not in text and "googleapis" not in text


def test_pages_have_no_inline_executable_script(site):
    for name in PAGES:
        text = (site / name).read_text()
        for tag in re.findall(r"<script\b[^>]*>", text):
            assert 'src="assets/' in tag or 'src="data/' in tag or 'type="application/json"' in tag, (name, tag)


def test_pages_carry_a_content_security_policy_without_inline_scripts(site):
    for name in PAGES:
        text = (site / name).read_text()
        csp = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">', text).group(1)
        script_src = re.search(r"script-src ([^;]+)", csp).group(1)
        assert script_src.split() == ["'self'", "file:"], name  # no 'unsafe-inline', no 'unsafe-eval'
        assert "object-src 'none'" in csp


def test_untrusted_paper_text_is_escaped_everywhere(site):
    raw = [XSS_TITLE, XSS_VENUE, XSS_ABSTRACT, XSS_AUTHOR, XSS_EVIDENCE, "<script>window.__xss", "<img src=",
           "onerror=\"window", "<svg onload"]
    for name in PAGES:
        text = (site / name).read_text()
        for payload in raw:
            assert payload not in text, (name, payload)
        # every <script> in the page is ours (payloads cannot open one)
        assert len(re.findall(r"<script\b", text)) == len(re.findall(r"</script>", text))
    # the data files carry the text only inside one base64 string: nothing there can close it
    for name in DATA_FILES:
        blob = (site / name).read_bytes()
        body = blob[blob.index(b'= "') + 3 : blob.rindex(b'"')]
        assert re.fullmatch(rb"[A-Za-z0-9+/=]+", body)
    head, _ = unpack_js((site / "data" / "papers.js").read_bytes())
    i3 = head["columns"]["id"].index(pid(3))
    assert head["columns"]["title"][i3] == XSS_TITLE and head["columns"]["venue"][i3] == XSS_VENUE  # verbatim


def test_pages_show_counts_top_papers_labels_and_table(site):
    index = (site / "index.html").read_text()
    assert ">60</div>" in index and "Top papers by PageRank" in index and "Emerging topics" in index
    assert "No crawl recorded yet" in index
    head, arrays = unpack_js((site / "data" / "papers.js").read_bytes())
    assert head["n"] == 60 and len(head["columns"]["id"]) == 60 and len(arrays["lab_start"]) == 61
    i0 = head["columns"]["id"].index(pid(0))
    assert head["columns"]["arxiv"][i0] == "2500.00000" and head["columns"]["authors"][i0] == "Author 0, Coauthor 0"
    table = (site / "table.html").read_text()
    assert 'class="taxonomy-table"' in table and table.count("<tr data-paper-id=") == 20  # core papers
    trends = (site / "trends.html").read_text()
    assert trends.count("data-figure=") >= 4
    ghead, garrays = unpack_js((site / "data" / "graph.js").read_bytes())
    assert ghead["n"] == 60 and len(garrays["x"]) == 60 and ghead["m"] == len(garrays["src"]) > 0


def test_api_key_never_reaches_the_pages(site_db, tmp_path, monkeypatch):
    monkeypatch.setenv("S2_API_KEY", "sk-very-secret-key-123")
    out = tmp_path / "site-key"
    build_site(site_db, out)
    for f in out.rglob("*"):
        if f.is_file():
            assert b"sk-very-secret-key-123" not in f.read_bytes(), f


def test_read_site_asset_refuses_unknown_names():
    assert read_site_asset("explorer.js").startswith(b"/*")
    with pytest.raises(KeyError):
        read_site_asset("../site.py")


def test_site_builds_without_labels_or_citations(db, tmp_path):
    rec = {"paperId": "f" * 40, "title": "Lonely paper", "year": 2025, "authors": []}
    nameless = {"paperId": "d" * 40, "title": None, "year": None, "venue": None, "authors": []}
    (tmp_path / "one.jsonl").write_text(json.dumps(rec) + "\n" + json.dumps(nameless) + "\n")
    from rlmllm_graph import ingest

    ingest.import_files(db, [tmp_path / "one.jsonl"])
    result = build_site(db, tmp_path / "s")
    assert result["papers"] == 2 and result["edges"] == 0
    head, arrays = unpack_js((tmp_path / "s" / "data" / "papers.js").read_bytes())
    assert sorted(head["columns"]["title"]) == ["", "Lonely paper"]  # the page says "(untitled)"
    assert list(arrays["citations"]) == [-1, -1]  # unknown, not zero
    ghead, _ = unpack_js((tmp_path / "s" / "data" / "graph.js").read_bytes())
    assert ghead["m"] == 0 and ghead["isolated"] == 2
    for name in PAGES:
        assert ">nan<" not in (tmp_path / "s" / name).read_text().lower()
    assert "No core papers yet" in (tmp_path / "s" / "table.html").read_text()


# ---------------------------------------------------------------- the command


def test_report_command(site_db, invoke, tmp_path):
    out = tmp_path / "cli-site"
    r = invoke("report", "--out", str(out))
    assert r.exit_code == 0, r.output
    assert "Wrote 5 pages" in r.output and "index.html" in r.output
    assert (out / "graph.html").exists()
    r = invoke("report", "--out", str(out), "--json")
    assert r.exit_code == 0
    assert json.loads(r.output)["papers"] == 60


def test_report_on_an_empty_database_is_one_error_line(db, invoke, tmp_path):
    r = invoke("report", "--out", str(tmp_path / "x"))
    assert r.exit_code == 1
    assert r.stderr.strip().splitlines() == [
        "Error: nothing to report: the database holds no papers yet "
        "(fill it with `rlmllm-graph refresh` or `rlmllm-graph import`)"
    ]


def test_report_on_a_missing_database(runner, tmp_path):
    from rlmllm_graph.cli import cli

    r = runner.invoke(cli, ["report", "--db", str(tmp_path / "nope.db"), "--out", str(tmp_path / "x")])
    assert r.exit_code == 1 and r.stderr.startswith("Error: no database at")
    assert not (tmp_path / "nope.db").exists()


def test_report_needs_out(invoke):
    r = invoke("report")
    assert r.exit_code == 2 and "--out" in r.stderr


@pytest.mark.parametrize("command", ["report", "serve"])
def test_help_has_examples(runner, command):
    from rlmllm_graph.cli import cli

    r = runner.invoke(cli, [command, "--help"])
    assert r.exit_code == 0
    assert "Examples:" in r.output and f"rlmllm-graph {command}" in r.output


def test_overview_lists_papers_new_since_the_last_refresh(site_db, tmp_path):
    from rlmllm_graph.store import crawl as crawl_store

    def overview(when: str) -> str:
        with store.transaction(site_db):
            run = crawl_store.start_run(site_db, seeds=["ARXIV:2504.21277"], depth=1, max_papers=None,
                                        expand="both", api_url=None, when=when)
            crawl_store.finish_run(site_db, run, status="done", when=when)
        build_site(site_db, tmp_path / when[:4])
        return (tmp_path / when[:4] / "index.html").read_text()

    old = overview("2000-01-01T00:00:00+00:00")  # every stored paper came after it
    assert "Last refresh 2000-01-01" in old
    assert old.count('href="graph.html#paper=') >= 25 + 15  # 25 new papers listed + the top 15
    assert "… and 35 more" in old
    later = overview("2999-01-01T00:00:00+00:00")
    assert "No new papers in the last refresh." in later


def test_unsure_labels_are_marked_and_every_chip_says_how_sure(site_db, tmp_path):
    with store.transaction(site_db):
        store.insert_labels(site_db, [
            dict(paper_id=pid(1), facet="application", value="medical", confidence=0.41, source="model",
                 evidence="cue <b>clinical</b>"),
            dict(paper_id=pid(1), facet="application", value="perception", confidence=0.597, source="model",
                 evidence=None),
        ])
        store.save_manual_labels(site_db, pid(2), {"reward": ["process"]})
    out = tmp_path / "site2"
    build_site(site_db, out)
    assert "classify --review 20" in (out / "papers.html").read_text()
    labels = _labels(out)
    assert labels[pid(1)][("application", "medical")] == (41, "model", "cue <b>clinical</b>", "")
    assert labels[pid(1)][("application", "perception")] == (60, "model", "", "")
    assert labels[pid(1)][("algorithm", "ppo")][:2] == (95, "model")
    assert labels[pid(2)][("reward", "process")][1] == "manual"


def _labels(site: Path) -> dict[str, dict[tuple[str, str], tuple[int | None, str, str, str]]]:
    """paper id -> (facet, value) -> (confidence %, source, evidence, evidence source), decoded from the data file."""
    head, a = unpack_js((site / "data" / "papers.js").read_bytes())
    out: dict[str, dict[tuple[str, str], tuple[int | None, str, str, str]]] = {}
    for i, paper in enumerate(head["columns"]["id"]):
        for k in range(int(a["lab_start"][i]), int(a["lab_start"][i + 1])):
            f = head["facets"][a["lab_facet"][k]]
            conf = int(a["lab_conf"][k])
            out.setdefault(paper, {})[(f["name"], f["values"][a["lab_value"][k]])] = (
                None if conf == 255 else conf, head["sources"][a["lab_source"][k]], head["evidence"][k],
                head["where"][a["lab_where"][k]])
    return out


def test_labels_carry_their_evidence_source(site_db, tmp_path):
    site_db.conn.execute("UPDATE labels SET evidence_source = 'abstract' WHERE paper_id = ? AND facet = 'algorithm'",
                         [pid(0)])
    site_db.conn.execute("UPDATE labels SET evidence_source = '3.2 Training <i>recipe</i>' WHERE paper_id = ? "
                         "AND facet = 'modality'", [pid(0)])
    build_site(site_db, tmp_path / "src")
    labels = _labels(tmp_path / "src")[pid(0)]
    assert labels[("algorithm", "grpo")] == (95, "model", "with GRPO", "abstract")
    assert labels[("modality", "image")][3] == "3.2 Training <i>recipe</i>"  # verbatim; the page sets textContent
    assert labels[("relevance", "core")][3] == "abstract"
    site_db.conn.execute("UPDATE labels SET evidence_source = NULL WHERE paper_id = ?", [pid(0)])
    build_site(site_db, tmp_path / "src")
    assert _labels(tmp_path / "src")[pid(0)][("relevance", "core")][3] == ""  # not recorded


def test_report_never_writes_over_the_database(site_db, db_path, runner, tmp_path):
    import shutil

    from rlmllm_graph import store
    from rlmllm_graph.cli import cli

    out = tmp_path / "site"
    (out / "assets").mkdir(parents=True)
    site_db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    for inside in (out / "index.html", out / "assets" / "plotly.min.js"):
        shutil.copy(db_path, inside)
        r = runner.invoke(cli, ["report", "--out", str(out), "--db", str(inside)])
        assert r.exit_code == 2
        assert r.stderr.splitlines() == [
            f"Error: --out {inside} is the database; writing there would destroy it; choose another file"
        ]
        check = store.open_db(inside, create=False)
        assert store.paper_count(check) == 60
        check.conn.close()
    assert not (out / "graph.html").exists()


# ---------------------------------------------------------------- packed data, layout cache, the output folder


def test_pack_round_trip_keeps_types_text_and_alignment():
    arrays = {"a": np.arange(5, dtype=np.uint8), "f": np.array([0.5, -1.25], np.float32),
              "u": np.array([2**32 - 1], np.uint32), "i": np.array([-3, 4], np.int16)}
    js = pack_js("t", {"s": ["</script>", "\u2028", None], "x": float("nan")}, arrays)
    head, back = unpack_js(js)
    assert head["s"] == ["</script>", "\u2028", None] and head["x"] is None
    for k, v in arrays.items():
        assert back[k].dtype == v.dtype and back[k].tolist() == v.tolist()
    with pytest.raises(ValueError):
        pack_js("t", {}, {"c": np.array([1 + 2j])})
    with pytest.raises(ValueError):
        pack_js("bad name", {}, {})


def test_layout_is_cached_until_the_graph_changes(site_db, db_path, tmp_path):
    from rlmllm_graph.records import Paper

    first = build_site(site_db, tmp_path / "a")
    assert first["layout"] == "computed" and first["layout_cached"]
    ro = store.open_db(db_path, readonly=True)  # what `report` opens
    try:
        again = build_site(ro, tmp_path / "a")
    finally:
        ro.conn.close()
    assert again["layout"] == "cached" and again["written"] == 0  # nothing changed, nothing rewritten
    _, g1 = unpack_js((tmp_path / "a" / "data" / "graph.js").read_bytes())
    # a small refresh: one new paper citing paper 0 is placed beside it, the rest keep their places
    with store.transaction(site_db):
        store.upsert_papers(site_db, [Paper(paper_id="n" * 40, title="New paper", year=2025)])
        store.upsert_citations(site_db, [("n" * 40, pid(0), None, None)])
    grown = build_site(site_db, tmp_path / "a")
    assert grown["layout"] == "extended" and grown["papers"] == 61
    head, a2 = unpack_js((tmp_path / "a" / "data" / "papers.js").read_bytes())
    _, g2 = unpack_js((tmp_path / "a" / "data" / "graph.js").read_bytes())
    ids = head["columns"]["id"]
    new, zero = ids.index("n" * 40), ids.index(pid(0))
    old_ids = [i for i in ids if i != "n" * 40]
    assert [g2["x"][ids.index(i)] for i in old_ids] == list(g1["x"])  # every old paper stays put
    span = float(np.ptp(g1["x"]))
    assert abs(g2["x"][new] - g2["x"][zero]) < span / 4 and abs(g2["y"][new] - g2["y"][zero]) < span / 4
    assert build_site(site_db, tmp_path / "a", seed=7)["layout"] == "computed"  # another seed: laid out anew


def test_report_refuses_a_folder_holding_other_files_unless_forced(site_db, invoke, tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "thesis.tex").write_text("precious")
    r = invoke("report", "--out", str(out))
    assert r.exit_code == 2
    assert r.stderr.splitlines() == [
        f"Error: {out} holds files report did not write (thesis.tex); "
        "choose an empty folder or pass --force to write into it anyway"
    ]
    assert sorted(p.name for p in out.iterdir()) == ["thesis.tex"]
    r = invoke("report", "--out", str(out), "--force")
    assert r.exit_code == 0, r.stderr
    assert (out / "thesis.tex").read_text() == "precious" and (out / "graph.html").exists()
    assert "thesis.tex" not in json.loads((out / MANIFEST).read_text())["files"]
    # once written, the folder is ours: a rebuild needs no --force, and drops files it no longer writes
    manifest = json.loads((out / MANIFEST).read_text())
    (out / "assets" / "sigma.min.js").write_text("old renderer")
    (out / MANIFEST).write_text(json.dumps({"files": manifest["files"] + ["assets/sigma.min.js"]}))
    (out / "thesis.tex").unlink()
    r = invoke("report", "--out", str(out))
    assert r.exit_code == 0, r.stderr
    assert not (out / "assets" / "sigma.min.js").exists()


def test_report_refuses_a_file_as_out(site_db, invoke, tmp_path):
    target = tmp_path / "file.txt"
    target.write_text("x")
    r = invoke("report", "--out", str(target))
    assert r.exit_code == 2 and len(r.stderr.strip().splitlines()) == 1
    assert target.read_text() == "x"


def test_extend_layout_moves_a_linked_ring_paper_in_and_places_new_ones():
    from rlmllm_graph.explore.layout import extend_layout

    # papers 0-9 a chain near the centre; 10 and 11 isolated on the outer ring; 12 is new
    old = np.array([[k, 0.0] for k in range(10)] + [[100.0, 0.0], [0.0, 100.0], [0.0, 0.0]])
    known = np.array([True] * 12 + [False])
    src = np.array(list(range(9)) + [10, 12])  # the refresh links 10 to paper 3, and 12 cites paper 5
    dst = np.array(list(range(1, 10)) + [3, 5])
    pos = extend_layout(old, known, src, dst, seed=1)
    assert np.array_equal(pos[:10], old[:10]) and np.array_equal(pos[11], old[11])  # the rest stay put
    assert np.linalg.norm(pos[10] - old[3]) < 3 and np.linalg.norm(pos[12] - old[5]) < 3


def test_overview_shows_coverage_by_route(site):
    from rlmllm_graph.site import _routes_table

    index = (site / "index.html").read_text()
    assert "How the papers were found" in index
    assert re.search(r'<td>imported</td><td class="num">60</td><td class="num">20</td>', index)  # 20 core papers

    html_ = _routes_table({"seed": {"papers": 1, "core": 1}, "query": {"papers": 40, "core": 10},
                           "<b>odd</b>": {"papers": 2, "core": 0}})
    assert "How the papers were found" in html_
    assert '<td>field queries</td><td class="num">40</td><td class="num">10</td><td class="num">25%</td>' in html_
    assert "&lt;b&gt;odd&lt;/b&gt;" in html_ and "<b>odd" not in html_
    assert _routes_table(None) == "" and _routes_table({}) == ""
