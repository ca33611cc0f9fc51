"""Start-up time: `rlmllm-graph --help` and `stats`, beside the same process with every library module imported
up front (how the command line started before its heavy imports moved inside the commands).

Each figure is the median CPU time (user + system) of fresh interpreters, which a busy machine disturbs less
than wall time; the wall time is printed beside it.

    .venv/bin/python benchmarks/startup_bench.py            # 9 runs of each
    .venv/bin/python benchmarks/startup_bench.py --quick    # 3 runs of each
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from rlmllm_graph import store  # noqa: E402
from rlmllm_graph.ingest import import_files  # noqa: E402

#: the baseline: what `import rlmllm_graph.cli` loaded when the package imported its whole API up front
EAGER = ("import rlmllm_graph.analysis, rlmllm_graph.classify.classifier, rlmllm_graph.crawl, rlmllm_graph.explore, "
         "rlmllm_graph.export, rlmllm_graph.graph, rlmllm_graph.plots, rlmllm_graph.site, rlmllm_graph.trends\n")
RUN = "import sys\nfrom rlmllm_graph.cli import cli\ncli(sys.argv[1:])\n"


def timed(code: str, args: list[str], runs: int) -> tuple[float, float]:
    """Median CPU seconds and median wall seconds of ``runs`` fresh interpreters running ``code``."""
    cpu, wall = [], []
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", code, *args], env=env, check=True, capture_output=True)
        wall.append(time.perf_counter() - t)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return statistics.median(cpu), statistics.median(wall)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="3 runs of each instead of 9")
    runs = 3 if ap.parse_args().quick else 9
    with tempfile.TemporaryDirectory() as tmp:
        db_path = Path(tmp) / "s.db"
        db = store.open_db(db_path)
        import_files(db, [ROOT / "tests" / "fixtures" / "mini_corpus.jsonl"])
        db.conn.close()
        print(f"{'command':<24} {'ours (CPU / wall)':>20} {'all imported up front':>24} {'ratio':>7}")
        for name, args in (("rlmllm-graph --help", ["--help"]), ("rlmllm-graph stats", ["stats", "--db", str(db_path)])):
            ours = timed(RUN, args, runs)
            base = timed(EAGER + RUN, args, runs)
            print(f"{name:<24} {ours[0]:>8.2f} s / {ours[1]:>5.2f} s {base[0]:>12.2f} s / {base[1]:>5.2f} s "
                  f"{base[0] / ours[0]:>6.1f}×")


if __name__ == "__main__":
    main()
