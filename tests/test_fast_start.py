"""Fast start: `rlmllm-graph --help` and `stats` import only what they need; heavy libraries load inside the
commands that use them, and the package's public names load on first use."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from conftest import FIXTURES

#: plotting, graph, learning and data-frame libraries, the HTTP client, and sqlite-utils (which imports pandas)
HEAVY = ("plotly", "networkx", "sklearn", "scipy", "igraph", "pandas", "numpy", "httpx", "sqlite_utils")


def _modules_after(code: str, *args: str) -> tuple[set[str], str]:
    """Run ``code`` in a fresh interpreter; the top-level modules it loaded, and what it printed."""
    script = (
        "import sys, json\n" + code + "\n"
        "print('\\n' + json.dumps(sorted({m.split('.')[0] for m in sys.modules})))\n"
    )
    r = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    out, _, last = r.stdout.rstrip().rpartition("\n")
    return set(json.loads(last)), out


RUN_CLI = (
    "from rlmllm_graph.cli import cli\n"
    "try:\n    cli(sys.argv[1:])\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
)


def test_help_imports_no_heavy_library():
    loaded, out = _modules_after(RUN_CLI, "--help")
    assert "refresh" in out and "stats" in out
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))


def test_every_command_help_imports_no_plotting_graph_or_learning_library():
    for name in ("refresh", "classify", "trends", "graph", "report", "export", "table"):
        loaded, out = _modules_after(RUN_CLI, name, "--help")
        assert "Examples" in out
        assert not loaded & {"plotly", "networkx", "sklearn", "scipy", "igraph"}, name


def test_stats_imports_only_what_it_needs(tmp_path: Path):
    from rlmllm_graph import store
    from rlmllm_graph.ingest import import_files

    db = store.open_db(tmp_path / "s.db")
    import_files(db, [FIXTURES / "mini_corpus.jsonl"])
    db.conn.close()
    loaded, out = _modules_after(RUN_CLI, "stats", "--db", str(tmp_path / "s.db"), "--json")
    assert json.loads(out)["papers"] == 4
    # sqlite-utils itself imports pandas and numpy; nothing else heavy comes in
    assert not loaded & {"plotly", "networkx", "sklearn", "scipy", "igraph", "httpx"}


def test_the_public_api_loads_on_first_use():
    loaded, out = _modules_after(
        "import rlmllm_graph as rg\n"
        "heavy = sorted(m for m in " + repr(HEAVY) + " if m in sys.modules)\n"
        "import rlmllm_graph.crawl\n"  # a submodule named like its function leaves the function in place
        "print(heavy, rg.crawl.__module__, callable(rg.open_db), 'compute_pagerank' in dir(rg))\n"
    )
    assert out.strip() == "[] rlmllm_graph.crawl True True"
