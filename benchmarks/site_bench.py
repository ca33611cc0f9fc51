"""Benchmark the report site at 20,000 and 100,000 papers, beside the previous renderer in the same run.

    .venv/bin/python benchmarks/site_bench.py            # 20k (+ the previous renderer) and 100k
    .venv/bin/python benchmarks/site_bench.py --quick    # 20k only, ours and the previous renderer
    .venv/bin/python benchmarks/site_bench.py --baseline-100k   # also the previous renderer at 100k (minutes)

For each size a synthetic database is written (tests/_big_site_data.py: clustered
citations, ~15% isolated papers, titles, abstracts of 150 words, authors, labels
with evidence and evidence source): 20,000 papers with ~330,000 citations and
100,000 with ~960,000. Then, each in a child process (peak memory is the
child's maximum resident set):

- ``report``: a full build (no cached layout), then an incremental one after a
  small refresh (50 new papers, 200 new citations: the cached layout is extended);
- the site's size, and per paper;
- in Debian's chromium (software WebGL, ``file://``): the explorer's *first frame*
  (navigation start to two animation frames after the first draw, the drawn
  node count checked against the page's state) and the time to *answer a search*
  (search the titles, select the hit, centre it, draw: until the next frame), and the frames per
  second while panning and zooming for 2 s (ours only: the previous page has no such hook).

The *previous renderer* is the site code at ``--baseline-rev`` (default
7857199, the sigma.js explorer and HTML paper table), extracted with ``git
archive`` into a temporary folder and run by the same interpreter on a copy of
the same database. Targets (issue 15): a 20k site under 40 MB; the 100k first
frame under 30 s (cosmos.gl's anchor: 28 s); ``report`` at 100k under 60 s and 4 GB.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
BASELINE_REV = "7857199"
EDGES = {20_000: 360_000, 100_000: 1_000_000}
ANCHOR_COSMOS_S, ANCHOR_SIGMA_S = 28.0, 149.0

GEN = """
import sys, time
sys.path.insert(0, {tests!r})
from rlmllm_graph import store
from _big_site_data import fill_big_db
db = store.open_db({path!r})
fill_big_db(db, {n}, {m})
db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
db.conn.close()
"""

BUILD = """
import json, resource, sys, time
from rlmllm_graph import store
from rlmllm_graph.site import build_site
db = store.open_db({path!r}, readonly=True)
t = time.perf_counter()
r = build_site(db, {out!r})
r["wall"] = time.perf_counter() - t
r["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print("RESULT " + json.dumps({{k: r.get(k) for k in ("wall", "peak_mb", "layout", "timings", "papers", "edges")}}))
"""

REFRESH = """
import sys
sys.path.insert(0, {tests!r})
from rlmllm_graph import store
from rlmllm_graph.records import Paper
from _big_site_data import paper_id
db = store.open_db({path!r})
n = {n}
with store.transaction(db):
    store.upsert_papers(db, [Paper(paper_id="new%037d" % k, title="New paper %d on video GRPO" % k, year=2026)
                             for k in range(50)])
    store.upsert_citations(db, [("new%037d" % (k % 50), paper_id((k * 7919) % n), None, None) for k in range(200)])
db.conn.close()
"""


def run_py(code: str, *, src: Path) -> str:
    env = dict(os.environ, PYTHONPATH=str(src))
    res = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    if res.returncode:
        raise SystemExit(f"child failed:\n{res.stderr[-3000:]}")
    return res.stdout


def build(db: Path, out: Path, *, src: Path) -> dict:
    text = run_py(BUILD.format(path=str(db), out=str(out)), src=src)
    return json.loads(text.split("RESULT ", 1)[1])


def site_bytes(out: Path) -> int:
    return sum(p.stat().st_size for p in out.rglob("*") if p.is_file())


FIRST = "[explorer.state.firstFrameMs, explorer.renderedNodeCount(), explorer.visibleCount()]"
PAN = """async () => {
  let frames = 0; const t0 = performance.now();
  while (performance.now() - t0 < 2000) {
    explorer.panBy(Math.cos(frames / 5) * 20, Math.sin(frames / 7) * 20);
    if (frames % 10 === 0) explorer.zoomBy(frames % 20 ? 1.15 : 1 / 1.15);
    await new Promise(r => requestAnimationFrame(r)); frames++;
  }
  return frames / ((performance.now() - t0) / 1000);
}"""
SEARCH = """async (q) => {
  const t0 = performance.now();
  const hits = explorer.search(q);
  explorer.select(hits[0]);
  await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
  return [performance.now() - t0, hits[0]];
}"""


def open_explorer(browser, site: Path, *, timeout_s: float, pan: bool = True) -> tuple[float, float, int, float]:
    """(first frame ms, search ms, drawn nodes, frames per second while panning and zooming) of site/graph.html."""
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto((site / "graph.html").as_uri())
    page.wait_for_selector("body[data-ready='1']", state="attached", timeout=timeout_s * 1000)
    first, drawn, visible = page.evaluate(FIRST)
    if drawn != visible:
        raise SystemExit(f"explorer drew {drawn} nodes of {visible} visible")
    search_ms, _ = page.evaluate(SEARCH, "12345")
    fps = float(page.evaluate(PAN)) if pan else float("nan")
    if errors:
        raise SystemExit(f"page errors: {errors[:3]}")
    page.close()
    return float(first), float(search_ms), int(drawn), fps


def baseline_src(tmp: Path, rev: str) -> Path:
    dest = tmp / "baseline"
    dest.mkdir()
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "src"], capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive.stdout, check=True)
    return dest / "src"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="20,000 papers only")
    ap.add_argument("--baseline-100k", action="store_true", help="also run the previous renderer at 100,000 papers")
    ap.add_argument("--baseline-rev", default=BASELINE_REV, help="git revision of the previous renderer")
    ap.add_argument("--keep", type=Path, help="keep the databases and sites in this folder")
    args = ap.parse_args()
    if not Path(CHROMIUM).exists():
        raise SystemExit("needs Debian's chromium at /usr/bin/chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    sizes = [20_000] if args.quick else [20_000, 100_000]
    rows = []
    tmpdir = tempfile.mkdtemp(prefix="site-bench-")
    tmp = Path(tmpdir)
    ours_src, old_src = ROOT / "src", baseline_src(tmp, args.baseline_rev)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            for n in sizes:
                print(f"--- {n:,} papers", flush=True)
                old_db, new_db = tmp / f"old{n}.db", tmp / f"new{n}.db"
                # written by the previous code's store (its schema), then copied: our code migrates its copy
                run_py(GEN.format(tests=str(ROOT / "tests"), path=str(old_db), n=n, m=EDGES[n]), src=old_src)
                shutil.copy(old_db, new_db)
                run_py(f"from rlmllm_graph import store; store.open_db({str(new_db)!r}).conn.close()", src=ours_src)
                full = build(new_db, tmp / f"site{n}", src=ours_src)
                size = site_bytes(tmp / f"site{n}")
                run_py(REFRESH.format(tests=str(ROOT / "tests"), path=str(new_db), n=n), src=ours_src)
                incr = build(new_db, tmp / f"site{n}", src=ours_src)
                first, search, drawn, fps = open_explorer(browser, tmp / f"site{n}", timeout_s=300)
                row = {"n": n, "edges": full["edges"], "build_s": full["wall"], "peak_mb": full["peak_mb"],
                       "incr_s": incr["wall"], "incr_layout": incr["layout"], "mb": size / 1e6,
                       "kb_per_paper": size / 1e3 / n, "first_s": first / 1000, "search_ms": search, "drawn": drawn,
                       "pan_fps": fps,
                       "timings": full["timings"]}
                print(json.dumps(row), flush=True)
                if n == 20_000 or args.baseline_100k:
                    ob = build(old_db, tmp / f"old-site{n}", src=old_src)
                    osize = site_bytes(tmp / f"old-site{n}")
                    ofirst, osearch, _, _ = open_explorer(browser, tmp / f"old-site{n}", timeout_s=600, pan=False)
                    row["old"] = {"build_s": ob["wall"], "peak_mb": ob["peak_mb"], "mb": osize / 1e6,
                                  "kb_per_paper": osize / 1e3 / n, "first_s": ofirst / 1000, "search_ms": osearch}
                    print(json.dumps(row["old"]), flush=True)
                rows.append(row)
            browser.close()
    finally:
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
            for f in tmp.iterdir():
                if f.name != "baseline":
                    shutil.move(str(f), args.keep / f.name)
        shutil.rmtree(tmp, ignore_errors=True)

    print()
    print(f"{'papers':>8} {'citations':>10} {'renderer':>9} {'report s':>9} {'peak MB':>8} {'rebuild s':>10} "
          f"{'site MB':>8} {'KB/paper':>9} {'first frame s':>14} {'search ms':>10} {'pan fps':>8}")
    for r in rows:
        print(f"{r['n']:>8,} {r['edges']:>10,} {'ours':>9} {r['build_s']:>9.1f} {r['peak_mb']:>8.0f} "
              f"{r['incr_s']:>10.1f} {r['mb']:>8.1f} {r['kb_per_paper']:>9.2f} {r['first_s']:>14.2f} "
              f"{r['search_ms']:>10.0f} {r['pan_fps']:>8.1f}")
        if "old" in r:
            o = r["old"]
            print(f"{'':>8} {'':>10} {'previous':>9} {o['build_s']:>9.1f} {o['peak_mb']:>8.0f} {'':>10} "
                  f"{o['mb']:>8.1f} {o['kb_per_paper']:>9.2f} {o['first_s']:>14.2f} {o['search_ms']:>10.0f}")
    print(f"\n(previous renderer: site code at {args.baseline_rev}; at 100k the recorded anchors are "
          f"sigma.js {ANCHOR_SIGMA_S:.0f} s and cosmos.gl {ANCHOR_COSMOS_S:.0f} s to a first frame)")
    for r in rows:
        if r["n"] == 20_000:
            print(f"target: 20k site < 40 MB: {'met' if r['mb'] < 40 else 'MISSED'} ({r['mb']:.1f} MB)")
        if r["n"] == 100_000:
            print(f"target: 100k first frame < 30 s: {'met' if r['first_s'] < 30 else 'MISSED'} ({r['first_s']:.1f} s)")
            ok = r["build_s"] < 60 and r["peak_mb"] < 4096
            print(f"target: report at 100k < 60 s and < 4 GB: {'met' if ok else 'MISSED'} "
                  f"({r['build_s']:.1f} s, {r['peak_mb']:.0f} MB; rebuild after a small refresh {r['incr_s']:.1f} s)")


if __name__ == "__main__":
    main()
