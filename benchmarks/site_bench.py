"""Benchmark the report site: build time, and the explorer's first drawn frame in headless Chromium.

    .venv/bin/python benchmarks/site_bench.py            # 1,000 and 10,000 nodes, 3 runs each
    .venv/bin/python benchmarks/site_bench.py --quick    # 1,000 nodes, 1 run
    .venv/bin/python benchmarks/site_bench.py --screenshots docs/img   # also the README screenshots

Synthetic citation graphs (clustered, ~2 references a paper, labelled) are
imported into a fresh database, the site is built with ``build_site``, and
``graph.html`` is opened from ``file://`` in Debian's chromium (software
WebGL, as in CI). *First frame* is the time from navigation start until the
explorer has drawn all nodes (two animation frames after sigma.js was created;
the node count is checked). The baseline is the same layout drawn by plotly
``scattergl`` (markers plus edges as one line trace), the renderer we would
otherwise use. Target: 10,000 nodes drawn in under 3 s.

With ``--screenshots DIR`` the real corpus in ../shared/data (when present) is
imported, classified and built into a site, and the explorer (a selected paper,
and the overview) and the trends page are saved as PNGs in DIR.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from rlmllm_graph import ingest, store  # noqa: E402
from rlmllm_graph.site import build_site  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SHARED = ROOT.parent / "shared" / "data"
TARGET_MS = 3000.0

MODS = ["image", "video", "audio", "3d"]
ALGS = ["grpo", "ppo", "dpo", "rloo", "reinforce"]
APPS = ["general", "math", "medical", "gui-agent", "spatial", "perception"]


def synthetic_db(path: Path, n: int, *, seed: int = 1) -> None:
    """``n`` papers in ~n/150 topical clusters, each citing ~2 earlier papers (80% in its own cluster)."""
    rng = random.Random(seed)
    k = max(3, n // 150)
    cluster = [rng.randrange(k) for _ in range(n)]
    members: dict[int, list[int]] = {}
    pid = [hashlib.sha1(f"bench-{i}".encode()).hexdigest() for i in range(n)]
    jsonl = path.with_suffix(".jsonl")
    labels = []
    with jsonl.open("w") as fh:
        for i in range(n):
            c = cluster[i]
            refs = set()
            for _ in range(rng.choice([0, 1, 2, 2, 3, 4])):
                pool = members.get(c) if rng.random() < 0.8 else None
                if pool:
                    refs.add(rng.choice(pool))
                elif i:
                    refs.add(rng.randrange(i))
            members.setdefault(c, []).append(i)
            year = 2018 + (8 * i) // n
            fh.write(json.dumps({
                "paperId": pid[i], "externalIds": {"ArXiv": f"{year % 100:02d}{1 + i % 12:02d}.{i:05d}"},
                "title": f"Topic {c} study {i}: reinforcement learning for multimodal reasoning",
                "year": year, "publicationDate": f"{year}-{1 + i % 12:02d}-01", "venue": "arXiv.org",
                "citationCount": rng.randrange(0, 500),
                "authors": [{"authorId": f"a{i % 997}", "name": f"Author {i % 997}"}],
                "references": [{"paperId": pid[j]} for j in sorted(refs)],
            }) + "\n")
            rel = ["core", "related", "other"][c % 3]
            labels.append(dict(paper_id=pid[i], facet="relevance", value=rel, confidence=0.9, source="rules",
                               evidence="reinforcement learning"))
            if rel != "other":
                labels += [
                    dict(paper_id=pid[i], facet="modality", value=MODS[c % 4], confidence=0.8, source="rules", evidence="x"),
                    dict(paper_id=pid[i], facet="algorithm", value=ALGS[(c + i) % 5], confidence=0.8, source="rules", evidence="y"),
                    dict(paper_id=pid[i], facet="application", value=APPS[c % 6], confidence=0.8, source="rules", evidence="z"),
                ]
    db = store.open_db(path)
    ingest.import_files(db, [jsonl])
    with store.transaction(db):
        store.insert_labels(db, labels)
    db.conn.close()


BASELINE_HTML = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>plotly baseline</title></head>
<body style="margin:0"><div id="g" style="width:100vw;height:100vh"></div>
<script src="assets/plotly.min.js"></script><script src="baseline-data.js"></script>
<script>
const D = window.BASELINE, n = D.x.length, ex = [], ey = [];
for (let k = 0; k + 1 < D.edges.length; k += 2) { const s = D.edges[k], t = D.edges[k + 1];
  ex.push(D.x[s], D.x[t], null); ey.push(D.y[s], D.y[t], null); }
Plotly.newPlot("g", [
  {type: "scattergl", mode: "lines", x: ex, y: ey, line: {width: 0.5, color: "#cfd4da"}, hoverinfo: "skip"},
  {type: "scattergl", mode: "markers", x: D.x, y: D.y, text: D.title, marker: {size: D.size, color: D.colour}}
], {margin: {l: 0, r: 0, t: 0, b: 0}, showlegend: false, xaxis: {visible: false}, yaxis: {visible: false}})
.then(() => requestAnimationFrame(() => requestAnimationFrame(() => {
  window.FIRST = performance.now(); document.body.dataset.ready = "1"; })));
</script></body></html>"""


def write_baseline(site: Path) -> None:
    text = (site / "graph.html").read_text()
    start = text.index('<script type="application/json" id="graph-data">') + len('<script type="application/json" id="graph-data">')
    payload = json.loads(text[start:text.index("</script>", start)])
    nodes = payload["nodes"]
    rel = next(f for f in payload["facets"] if f["name"] == "relevance")
    colours = {0: "#d62728", 1: "#1f77b4", 2: "#b8b8b8"}
    mx = max(nodes["pagerank"]) or 1
    data = {
        "x": nodes["x"], "y": nodes["y"], "title": nodes["title"], "edges": payload["edges"],
        "size": [3 + 10 * (p / mx) ** 0.5 for p in nodes["pagerank"]],
        "colour": [colours.get(m[0], "#c8c8c8") if m else "#c8c8c8" for m in rel["members"]],
    }
    (site / "baseline-data.js").write_text("window.BASELINE = " + json.dumps(data) + ";")
    (site / "baseline.html").write_text(BASELINE_HTML)


FPS = """async () => {
  const cam = explorer.renderer.getCamera(); let frames = 0, go = true;
  const tick = () => { frames++; if (go) requestAnimationFrame(tick); }; requestAnimationFrame(tick);
  const t0 = performance.now();
  await cam.animate({ratio: 0.3}, {duration: 1000}); await cam.animate({ratio: 1}, {duration: 1000});
  go = false; return frames / ((performance.now() - t0) / 1000);
}"""


PLOTLY_FPS = """async () => {
  const g = document.getElementById("g"), xr = g._fullLayout.xaxis.range.slice(), yr = g._fullLayout.yaxis.range.slice();
  let frames = 0; const t0 = performance.now();
  while (performance.now() - t0 < 2000) {
    const f = 0.7 + 0.3 * Math.cos(frames / 5), cx = (xr[0] + xr[1]) / 2, cy = (yr[0] + yr[1]) / 2;
    const wx = (xr[1] - xr[0]) * f / 2, wy = (yr[1] - yr[0]) * f / 2;
    await Plotly.relayout(g, {"xaxis.range": [cx - wx, cx + wx], "yaxis.range": [cy - wy, cy + wy]});
    await new Promise(r => requestAnimationFrame(r)); frames++;
  }
  return frames / ((performance.now() - t0) / 1000);
}"""


def first_frame(browser, url: str, *, explorer: bool, n: int) -> float:
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url)
    page.wait_for_selector("body[data-ready='1']", state="attached", timeout=120_000)
    if explorer:
        ms = page.evaluate("explorer.state.firstFrameMs")
        drawn = page.evaluate("explorer.renderedNodeCount()")
        if drawn != n:
            raise SystemExit(f"explorer drew {drawn} nodes, expected {n}")
    else:
        ms = page.evaluate("window.FIRST")
    if errors:
        raise SystemExit(f"page errors at {url}: {errors[:3]}")
    page.close()
    return float(ms)


def fps(browser, url: str, script: str = FPS) -> float:
    """Frames per second while zooming in and out for 2 s (sigma: camera animation; plotly: relayouts)."""
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(url)
    page.wait_for_selector("body[data-ready='1']", state="attached", timeout=120_000)
    value = page.evaluate(script)
    page.close()
    return float(value)


def screenshots(browser, out: Path, tmp: Path) -> None:
    if not (SHARED / "corpus.jsonl").exists():
        print("screenshots: ../shared/data is absent; skipped")
        return
    db = store.open_db(tmp / "shared.db")
    ingest.import_files(db, [SHARED / "corpus.jsonl"])
    try:
        from rlmllm_graph.classify import classify_database  # type: ignore[attr-defined]

        classify_database(db)
    except (ImportError, AttributeError):
        print("screenshots: the classifier is not available; pages show unlabelled papers")
    build_site(db, tmp / "shared-site")
    out.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1400, "height": 860}, device_scale_factor=1)
    page.goto((tmp / "shared-site" / "graph.html").as_uri())
    page.wait_for_selector("body[data-ready='1']", state="attached")
    page.fill("#search", "Reinforced MLLM")
    page.press("#search", "Enter")
    page.wait_for_timeout(900)
    page.screenshot(path=str(out / "explorer.png"))
    page.click("#details-close")
    page.evaluate("explorer.renderer.getCamera().animate({x: 0.5, y: 0.5, ratio: 0.55}, {duration: 0})")
    page.wait_for_timeout(500)
    page.screenshot(path=str(out / "explorer-overview.png"))
    page.close()
    page = browser.new_page(viewport={"width": 1400, "height": 860})
    page.goto((tmp / "shared-site" / "trends.html").as_uri())
    page.wait_for_selector("body[data-ready='1']", state="attached")
    page.screenshot(path=str(out / "trends.png"), full_page=True, clip={"x": 0, "y": 0, "width": 1400, "height": 1450})
    page.close()
    print(f"screenshots: {out / 'explorer.png'}, {out / 'explorer-overview.png'}, {out / 'trends.png'}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="1,000 nodes only, one run")
    ap.add_argument("--screenshots", type=Path, help="write explorer.png and trends.png of the real corpus here")
    args = ap.parse_args()
    if not Path(CHROMIUM).exists():
        raise SystemExit("needs Debian's chromium at /usr/bin/chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    sizes = [1000] if args.quick else [1000, 10000]
    runs = 1 if args.quick else 3
    rows = []
    with tempfile.TemporaryDirectory() as tmpdir, sync_playwright() as p:
        tmp = Path(tmpdir)
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        if (SHARED / "corpus.jsonl").exists():
            db = store.open_db(tmp / "corpus.db")
            ingest.import_files(db, [SHARED / "corpus.jsonl"])
            t = time.perf_counter()
            r = build_site(db, tmp / "corpus-site")
            print(f"report build, real corpus ({r['papers']:,} papers, {r['edges']} edges): "
                  f"{time.perf_counter() - t:.2f} s")
            db.conn.close()
        for n in sizes:
            synthetic_db(tmp / f"s{n}.db", n)
            db = store.open_db(tmp / f"s{n}.db", readonly=True)
            t = time.perf_counter()
            r = build_site(db, tmp / f"site{n}")
            build_s = time.perf_counter() - t
            db.conn.close()
            write_baseline(tmp / f"site{n}")
            ours = [first_frame(browser, (tmp / f"site{n}" / "graph.html").as_uri(), explorer=True, n=n) for _ in range(runs)]
            base = [first_frame(browser, (tmp / f"site{n}" / "baseline.html").as_uri(), explorer=False, n=n)
                    for _ in range(runs)]
            rate = fps(browser, (tmp / f"site{n}" / "graph.html").as_uri())
            base_rate = fps(browser, (tmp / f"site{n}" / "baseline.html").as_uri(), PLOTLY_FPS)
            size_mb = (tmp / f"site{n}" / "graph.html").stat().st_size / 1e6
            rows.append((n, r["edges"], build_s, r["timings"].get("graph.html", 0.0), size_mb,
                         statistics.median(ours), statistics.median(base), rate, base_rate))
        if args.screenshots:
            screenshots(browser, args.screenshots, tmp)
        browser.close()

    print()
    print(f"{'nodes':>7} {'edges':>7} {'build s':>8} {'graph.html s':>12} {'MB':>5} "
          f"{'first frame ms':>15} {'plotly scattergl ms':>20} {'ratio':>6} {'zoom fps':>9} {'plotly fps':>10}")
    for n, m, b, g, mb, o, base, rate, base_rate in rows:
        print(f"{n:>7,} {m:>7,} {b:>8.2f} {g:>12.2f} {mb:>5.1f} {o:>15.0f} {base:>20.0f} {base / o:>5.2f}x "
              f"{rate:>9.1f} {base_rate:>10.1f}")
    big = [r for r in rows if r[0] == 10000]
    if big:
        ok = big[0][5] < TARGET_MS
        print(f"\ntarget: 10,000 nodes drawn in < {TARGET_MS / 1000:.0f} s: {'met' if ok else 'MISSED'} "
              f"({big[0][5] / 1000:.2f} s)")


if __name__ == "__main__":
    main()
