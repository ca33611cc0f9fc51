"""The notebooks run, top to bottom, against the small labelled fixture database."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from taxonomy_fixture import build_taxonomy_db

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


def test_there_is_a_notebook() -> None:
    assert NOTEBOOKS, "notebooks/ has no notebook"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_outputs_are_cleared_in_git(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, (
                f"{path.name}: clear the outputs before committing "
                "(jupyter nbconvert --clear-output --inplace notebooks/*.ipynb)"
            )


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # jupyter_client/zmq noise, not ours
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_against_the_fixture_database(
    path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nbclient import NotebookClient

    db_path = tmp_path / "fixture.db"
    build_taxonomy_db(db_path).conn.close()
    monkeypatch.setenv("RLMLLM_DB", str(db_path))  # the kernel inherits the environment
    monkeypatch.setenv("JUPYTER_PLATFORM_DIRS", "1")
    nb = nbformat.read(path, as_version=4)
    # the venv's own ipykernel ("python3" is the kernel of the running interpreter): no network
    client = NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()  # raises CellExecutionError, with the failing cell, on any error
    text = "\n".join(
        str(out.get("text", "")) + str(out.get("data", {}).get("text/plain", ""))
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.outputs
    )
    assert "'papers': 8" in text
    assert "Vision-R1" in text  # the taxonomy table
    assert "@misc{huang2025vision," in text  # the BibTeX export
    assert "2 video papers" in text  # the custom question
    assert all(p.name.startswith("fixture.db") for p in tmp_path.iterdir())  # it wrote nothing


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_before_anything_is_classified(
    path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fresh crawl has papers and citations but no labels yet: the notebook must still run."""
    from nbclient import NotebookClient

    from rlmllm_graph import store
    from rlmllm_graph.ingest import import_files
    from taxonomy_fixture import CORPUS

    db_path = tmp_path / "unlabelled.db"
    db = store.open_db(db_path)
    import_files(db, [CORPUS])
    db.conn.close()
    monkeypatch.setenv("RLMLLM_DB", str(db_path))
    monkeypatch.setenv("JUPYTER_PLATFORM_DIRS", "1")
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
