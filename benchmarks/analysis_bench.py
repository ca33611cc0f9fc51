"""Benchmark of `graph` and `trends` on a generated corpus, beside networkx's defaults.

    .venv/bin/python benchmarks/analysis_bench.py            # 100,000 papers, 1,000,000 citations
    .venv/bin/python benchmarks/analysis_bench.py --quick    # 10,000 papers, 100,000 citations

A corpus is generated into a temporary SQLite database through the store
functions (papers with authors and dates, citations with topic locality and
preferential attachment, labels for every facet with a planted GRPO rise).
Then, each in its own process so peak memory (ru_maxrss) is its own:

* ``graph``  — the CLI command itself (``rlmllm-graph graph --json``), in-process;
* ``trends`` — the CLI command itself (``rlmllm-graph trends --json --out DIR``: CSV and HTML charts);
* baseline  — the same citation graph, built the same way, then networkx's
  defaults ``nx.pagerank(G)`` and ``nx.community.louvain_communities`` (on the
  undirected graph, seed 42) beside ours (``compute_pagerank`` and
  ``compute_communities``), with the modularity each partition reaches.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

ALGOS = ["grpo", "ppo", "dpo", "rloo", "reinforce", "other"]
MODALITIES = ["image", "video", "audio", "3d"]
REWARDS = ["rule", "model", "process"]
APPS = ["general", "math", "medical", "gui-agent", "spatial", "perception", "generation", "other"]
WORDS = ("vision language grounding video temporal spatial agent gui math geometry chart medical report "
         "segmentation detection reward policy preference diffusion generation audio speech point cloud "
         "embodied robot planning tool search zoom perception counting puzzle chain thought critic").split()


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def generate(db_path: Path, n_papers: int, n_citations: int, seed: int = 7) -> dict[str, float]:
    """Fill ``db_path`` with a corpus through the store functions; returns timings."""
    from rlmllm_graph import store
    from rlmllm_graph.records import Author, Citation, Paper

    rng = random.Random(seed)
    t0 = time.perf_counter()
    n_topics = max(5, n_papers // 2000)
    # dates: growing output, 2015-01 .. 2026-06, sorted so that index order is time order
    months = [(y, m) for y in range(2015, 2027) for m in range(1, 13)][:138]
    weights = [1.045**i for i in range(len(months))]
    picks = sorted(rng.choices(range(len(months)), weights=weights, k=n_papers))
    topic = [rng.randrange(n_topics) for _ in range(n_papers)]
    ids = [f"{i:040x}" for i in range(n_papers)]
    papers = []
    for i in range(n_papers):
        y, m = months[picks[i]]
        words = rng.sample(WORDS, 4)
        papers.append(
            Paper(
                paper_id=ids[i],
                arxiv_id=f"{y % 100:02d}{m:02d}.{i:05d}",
                title=f"{words[0].capitalize()} {words[1]} with topic{topic[i]} {words[2]} {words[3]}",
                year=y,
                publication_date=f"{y}-{m:02d}-{rng.randint(1, 28):02d}" if rng.random() < 0.9 else None,
                venue=rng.choice(["arXiv", "NeurIPS", "ICLR", "CVPR", "ACL"]),
                citation_count=rng.randint(0, 500),
                hop=0 if i in (n_papers // 2, n_papers // 3) else 1,
                authors=[Author(f"a{rng.randrange(n_papers)}", f"Author {rng.randrange(n_papers)}") for _ in range(3)],
            )
        )
    # citations: each paper cites earlier ones, mostly in its topic, half by preferential attachment
    by_topic: list[list[int]] = [[] for _ in range(n_topics)]
    cited_in_topic: list[list[int]] = [[] for _ in range(n_topics)]
    all_cited: list[int] = []
    edges: set[tuple[int, int]] = set()
    mean_refs = 1.25 * n_citations / n_papers
    for i in range(n_papers):
        t = topic[i]
        if i > 20:
            k = min(int(rng.expovariate(1 / mean_refs)) + 1, 400)
            for _ in range(k):
                local = rng.random() < 0.8 and by_topic[t]
                if rng.random() < 0.5:
                    pool = cited_in_topic[t] if local and cited_in_topic[t] else all_cited
                    if not pool:
                        continue
                    j = pool[rng.randrange(len(pool))]
                else:
                    j = by_topic[t][rng.randrange(len(by_topic[t]))] if local else rng.randrange(i)
                if j < i and (i, j) not in edges:
                    edges.add((i, j))
                    cited_in_topic[topic[j]].append(j)
                    all_cited.append(j)
        by_topic[t].append(i)
    edge_list = sorted(edges)
    rng.shuffle(edge_list)
    edge_list = edge_list[:n_citations]
    # labels: relevance for all; topical facets for core and related; GRPO rises in the last months
    labels = []
    recent = len(months) - 6
    for i in range(n_papers):
        t = topic[i]
        rel = "core" if t < max(1, n_topics // 10) and rng.random() < 0.7 else (
            "related" if rng.random() < 0.3 else "other")
        labels.append((ids[i], "relevance", rel))
        if rel == "other":
            continue
        p_grpo = 0.6 if picks[i] >= recent else 0.2
        algo = "grpo" if rng.random() < p_grpo else ALGOS[(t + rng.randrange(2)) % len(ALGOS)]
        labels.append((ids[i], "algorithm", algo))
        labels.append((ids[i], "modality", MODALITIES[min(int(rng.expovariate(1.5)), 3)]))
        labels.append((ids[i], "reward", rng.choice(REWARDS)))
        labels.append((ids[i], "application", APPS[t % len(APPS)]))
        labels.append((ids[i], "strategy", rng.choice(["rl", "sft+rl"])))
    t1 = time.perf_counter()
    db = store.open_db(db_path)
    with store.transaction(db):
        store.upsert_papers(db, papers)
        store.upsert_citations(db, [Citation(ids[a], ids[b]) for a, b in edge_list])
        store.insert_labels(db, [{"paper_id": p, "facet": f, "value": v, "confidence": 0.9, "source": "rules",
                                  "evidence": None} for p, f, v in labels])
    db.conn.close()
    t2 = time.perf_counter()
    return {"generate_s": t1 - t0, "write_s": t2 - t1, "papers": n_papers, "citations": len(edge_list),
            "labels": len(labels)}


# --------------------------------------------------------------------------- workers (one process each)


def worker_cli(command: str, db_path: str) -> dict[str, float]:
    """Run the CLI command in this process, exactly as a user would; time and peak memory."""
    from rlmllm_graph.cli import cli

    args = [command, "--db", db_path, "--json"]
    buf = io.StringIO()
    with tempfile.TemporaryDirectory(prefix="trends-bench-") as out_dir:
        if command == "trends":  # the whole path: tables and interactive charts written too
            args += ["--out", out_dir]
        t0, c0 = time.perf_counter(), time.process_time()
        with contextlib.redirect_stdout(buf):
            try:
                cli.main(args, prog_name="rlmllm-graph")
            except SystemExit as e:
                if e.code not in (0, None):
                    raise RuntimeError(f"{command} exited {e.code}") from None
        seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    out = json.loads(buf.getvalue())
    summary = {"nodes": out["nodes"], "communities": out["n_communities"]} if command == "graph" else {
        "rising": [f"{r['facet']}={r['value']}" for r in out["emerging"] if r["rising"]][:5]}
    return {"seconds": seconds, "cpu": cpu, "peak_rss_mb": peak_rss_mb(), **summary}


def worker_baseline(db_path: str, *, skip_louvain: bool) -> dict[str, float]:
    """The same graph; networkx defaults beside ours, phase by phase."""
    import networkx as nx

    from rlmllm_graph import analysis, graph, store

    res: dict[str, float] = {}

    def timed(name: str, f):  # wall and CPU seconds (the machine may be shared: CPU is the fairer ratio)
        t0, c0 = time.perf_counter(), time.process_time()
        out = f()
        res[name + "_s"], res[name + "_cpu"] = time.perf_counter() - t0, time.process_time() - c0
        return out

    db = store.open_db(db_path, create=False)
    G = timed("build_graph", lambda: graph.build_citation_graph(db))
    ours_pr = timed("ours_pagerank", lambda: analysis.compute_pagerank(G))
    nx_pr = timed("nx_pagerank", lambda: nx.pagerank(G))
    res["pagerank_max_abs_diff"] = max(abs(ours_pr[n] - nx_pr[n]) for n in G)
    comm = timed("ours_communities", lambda: analysis.compute_communities(G, seed=42))
    U = G.to_undirected(as_view=False)
    groups: dict[int, set] = {}
    for n, c in comm.items():
        groups.setdefault(c if c >= 0 else -1 - hash(n), set()).add(n)
    res["ours_modularity"] = nx.community.modularity(U, list(groups.values()))
    res["ours_communities"] = sum(1 for c in set(comm.values()) if c >= 0)
    if not skip_louvain:
        louvain = timed("nx_louvain", lambda: nx.community.louvain_communities(U, seed=42))
        res["nx_modularity"] = nx.community.modularity(U, louvain)
        res["nx_communities"] = sum(1 for c in louvain if len(c) > 1)
    res["peak_rss_mb"] = peak_rss_mb()
    return res


def run_worker(*args: str) -> dict:
    cmd = [sys.executable, __file__, "--worker", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "PYTHONHASHSEED": "0"})
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        raise SystemExit(f"worker {args[0]} failed")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="10,000 papers and 100,000 citations")
    ap.add_argument("--papers", type=int, help="papers to generate (default 100,000)")
    ap.add_argument("--citations", type=int, help="citations to generate (default 1,000,000)")
    ap.add_argument("--skip-louvain", action="store_true", help="leave out networkx's Louvain (slow at full size)")
    ap.add_argument("--db", type=Path, help="reuse (or keep) the generated database at this path")
    ap.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    a = ap.parse_args()

    if a.worker:
        kind, db_path, *rest = a.worker
        if kind == "baseline":
            out = worker_baseline(db_path, skip_louvain="skip-louvain" in rest)
        else:
            out = worker_cli(kind, db_path)
        print(json.dumps(out))
        return

    n_papers = a.papers or (10_000 if a.quick else 100_000)
    n_cites = a.citations or (100_000 if a.quick else 1_000_000)
    with tempfile.TemporaryDirectory() as tmp:
        db_path = a.db or Path(tmp) / "bench.db"
        if db_path.exists():
            print(f"reusing {db_path}")
        else:
            g = generate(db_path, n_papers, n_cites)
            print(f"generated {g['papers']:,} papers, {g['citations']:,} citations, {g['labels']:,} labels "
                  f"in {g['generate_s']:.1f} s + {g['write_s']:.1f} s writing SQLite")
        graph = run_worker("graph", str(db_path))
        trends = run_worker("trends", str(db_path))
        base = run_worker("baseline", str(db_path), *(["skip-louvain"] if a.skip_louvain else []))

    print()
    print(f"load average while running: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores "
          "(wall time suffers when others share the machine; CPU time does not)")
    print(f"{'what':<44} {'wall':>8} {'CPU':>8} {'peak RSS':>9}")
    print(f"{'rlmllm-graph graph --json (whole command)':<44} {graph['seconds']:>7.1f}s {graph['cpu']:>7.1f}s "
          f"{graph['peak_rss_mb']:>7.0f}MB   {graph['nodes']:,} nodes, {graph['communities']:,} communities")
    print(f"{'  of which build_citation_graph':<44} {base['build_graph_s']:>7.1f}s {base['build_graph_cpu']:>7.1f}s")
    print(f"{'rlmllm-graph trends --json --out DIR':<44} {trends['seconds']:>7.1f}s {trends['cpu']:>7.1f}s "
          f"{trends['peak_rss_mb']:>7.0f}MB   rising: {', '.join(trends['rising']) or '-'}")
    print(f"{'baseline process (build graph + both sides)':<44} {'':>8} {'':>8} {base['peak_rss_mb']:>7.0f}MB")
    print()
    print(f"{'step (same graph, same run)':<28} {'ours':>14} {'networkx':>16} {'ratio (CPU)':>12}")
    pr_ratio = base["nx_pagerank_cpu"] / base["ours_pagerank_cpu"]
    print(f"{'pagerank vs nx.pagerank':<28} {base['ours_pagerank_s']:>6.2f}s/{base['ours_pagerank_cpu']:.2f}s "
          f"{base['nx_pagerank_s']:>8.2f}s/{base['nx_pagerank_cpu']:.2f}s {pr_ratio:>10.1f}x"
          f"   max |diff| {base['pagerank_max_abs_diff']:.1e}")
    if "nx_louvain_s" in base:
        c_ratio = base["nx_louvain_cpu"] / base["ours_communities_cpu"]
        print(f"{'communities vs nx Louvain':<28} {base['ours_communities_s']:>6.2f}s/"
              f"{base['ours_communities_cpu']:.2f}s {base['nx_louvain_s']:>8.2f}s/{base['nx_louvain_cpu']:.2f}s "
              f"{c_ratio:>10.1f}x   modularity {base['ours_modularity']:.3f} (Leiden) vs "
              f"{base['nx_modularity']:.3f} (Louvain); {base['ours_communities']} vs {base['nx_communities']} "
              "communities")
    else:
        print(f"{'communities':<28} {base['ours_communities_s']:>6.2f}s/{base['ours_communities_cpu']:.2f}s "
              f"{'skipped':>16}   modularity {base['ours_modularity']:.3f}")
    print("(times are wall/CPU seconds)")
    ok = graph["seconds"] < 60 and graph["peak_rss_mb"] < 4096
    ok_cpu = graph["cpu"] < 60 and graph["peak_rss_mb"] < 4096
    print()
    size = "" if n_papers >= 100_000 else " (at this reduced size)"
    print(f"target: full graph analysis < 60 s and < 4 GB: {'met' if ok else 'NOT met'} in wall time, "
          f"{'met' if ok_cpu else 'NOT met'} in CPU time{size}")


if __name__ == "__main__":
    main()
