"""Every command has help with examples and is in the README; the public API is complete and sorted."""

from __future__ import annotations

from pathlib import Path

import pytest

import rlmllm_graph
from rlmllm_graph.cli import cli

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()
DESIGN_COMMANDS = ["refresh", "import", "classify", "label", "stats", "trends", "graph", "report", "serve",
                   "export", "table"]


def test_every_design_command_exists():
    assert set(DESIGN_COMMANDS) <= set(cli.commands)


@pytest.mark.parametrize("name", sorted(cli.commands))
def test_command_has_help_with_examples_and_is_documented(runner, name):
    r = runner.invoke(cli, [name, "--help"])
    assert r.exit_code == 0
    assert "Example" in r.output, f"{name} --help shows no example"
    assert f"rlmllm-graph {name}" in README, f"README does not show `rlmllm-graph {name}`"


def test_public_api_is_sorted_and_importable():
    names = rlmllm_graph.__all__
    assert names == sorted(names, key=lambda n: (not n.isupper(), n)), "constants first, then sorted"
    assert len(set(names)) == len(names)
    for n in names:
        assert hasattr(rlmllm_graph, n), n


# -- what a user reads refers only to files a user has ---------------------------------------------------------

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "rlmllm_graph"
#: words that point at files or process a user of the repository or the wheel does not have
FORBIDDEN = ("../shared", "/work/", "DESIGN.md", "STYLE.md", "TEAM.md", "design folder", "shared/data")


def _user_texts() -> dict[str, str]:
    """README, CONTRIBUTING, docs/, the package's data files and module docstrings, and every --help."""
    texts = {p.name: p.read_text() for p in (ROOT / "README.md", ROOT / "CONTRIBUTING.md")}
    texts |= {str(p.relative_to(ROOT)): p.read_text() for p in sorted((ROOT / "docs").rglob("*.md"))}
    for p in sorted(PACKAGE.rglob("*")):
        if p.is_file() and p.suffix in (".py", ".md", ".json", ".html", ".css", ".txt") and "static" not in p.parts:
            texts[str(p.relative_to(ROOT))] = p.read_text()
    return texts


def test_nothing_a_user_reads_refers_to_files_they_do_not_have(runner):
    texts = _user_texts()
    for name in sorted(cli.commands):
        texts[f"{name} --help"] = runner.invoke(cli, [name, "--help"]).output
    texts["--help"] = runner.invoke(cli, ["--help"]).output
    found = [(name, word) for name, text in texts.items() for word in FORBIDDEN if word in text]
    assert not found


def test_relative_links_in_the_docs_resolve():
    import re

    for name in ["README.md", "CONTRIBUTING.md"] + [str(p.relative_to(ROOT)) for p in (ROOT / "docs").rglob("*.md")]:
        path = ROOT / name
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", path.read_text()):
            if "://" in target or target.startswith("mailto:"):
                continue
            assert (path.parent / target).exists(), f"{name} links to {target}, which does not exist"


def test_every_table_and_column_is_in_the_schema_doc(tmp_path):
    from rlmllm_graph import store

    doc = (ROOT / "docs" / "schema.md").read_text()
    db = store.open_db(tmp_path / "schema.db")
    try:
        missing = []
        for table in db.table_names():
            if table.startswith(("papers_fts", "sqlite_")):  # the full-text index and SQLite's own tables
                continue
            if f"`{table}`" not in doc:
                missing.append(table)
            missing += [f"{table}.{c.name}" for c in db[table].columns if f"`{c.name}`" not in doc]
    finally:
        db.conn.close()
    assert not missing, "document these in docs/schema.md"
    assert "`papers_fts`" in doc


def test_one_packaging_file_and_a_licence_that_matches_it():
    import tomllib

    assert not (ROOT / "setup.py").exists() and not (ROOT / "MANIFEST.in").exists()
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert meta["license"] == "MIT" and (ROOT / "LICENSE").read_text().startswith("MIT License")


def test_the_training_labels_are_package_data():
    """A wheel carries the labels the classifier trains on (pyproject's package-data globs match them)."""
    import fnmatch
    import tomllib

    from rlmllm_graph.classify import labels_dir

    globs = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["rlmllm_graph"]
    folder = labels_dir()
    assert folder == PACKAGE / "data" / "labels"
    files = [p.relative_to(PACKAGE).as_posix() for p in folder.iterdir()]
    assert len([f for f in files if f.endswith(".jsonl")]) >= 5
    for f in files:
        assert any(fnmatch.fnmatch(f, g) for g in globs), f"{f} would not be in a wheel"


def test_every_image_in_docs_is_used():
    used = "".join(t for t in _user_texts().values())
    for img in (ROOT / "docs" / "img").glob("*"):
        assert f"img/{img.name}" in used, f"docs/img/{img.name} is not shown anywhere"
