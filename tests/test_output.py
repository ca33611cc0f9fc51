"""The output layer (rlmllm_graph.output) and every command that writes a file through it: whole files or
none, never onto the database, through symlinks, straight onto devices and FIFOs, plain errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import FIXTURES
from rlmllm_graph import output, store
from rlmllm_graph.errors import BadInput
from rlmllm_graph.export import export_csv, export_jsonl
from rlmllm_graph.ingest import import_files
from taxonomy_fixture import build_taxonomy_db
from test_export import _bib, tdb  # noqa: F401  (tdb is a fixture)


# --- where the output goes: never onto the database, through symlinks, onto devices ---------


def _papers_in(path: Path) -> int:
    d = store.open_db(path, create=False)
    try:
        return store.paper_count(d)
    finally:
        d.conn.close()


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "bibtex", "graphml", "gexf"])
def test_export_onto_the_database_is_refused(tmp_path: Path, runner, fmt: str) -> None:
    from rlmllm_graph.cli import cli

    path = tmp_path / "ow.db"
    build_taxonomy_db(path).conn.close()
    res = runner.invoke(cli, ["export", "--format", fmt, "--out", str(path), "--db", str(path)])
    assert res.exit_code == 2
    assert res.stderr.splitlines() == [
        f"Error: --out {path} is the database; writing there would destroy it; choose another file"
    ]
    assert _papers_in(path) == 8


def test_output_onto_the_database_or_its_siblings_is_refused(tmp_path: Path, runner, monkeypatch) -> None:
    from rlmllm_graph.cli import cli

    path = tmp_path / "ow.db"
    build_taxonomy_db(path).conn.close()
    (tmp_path / "link.db").symlink_to(path)
    (tmp_path / "hard.db").hardlink_to(path)
    for out in (str(path), str(tmp_path / "link.db"), str(tmp_path / "hard.db"),
                str(tmp_path / "sub" / ".." / "ow.db"), str(path) + "-wal", str(path) + "-shm",
                str(path) + "-journal"):
        (tmp_path / "sub").mkdir(exist_ok=True)
        for args in (["export", "--format", "csv", "--out", out], ["table", "--out", out]):
            res = runner.invoke(cli, [*args, "--db", str(path)])
            assert res.exit_code == 2, (args, res.output)
            assert len(res.stderr.splitlines()) == 1 and "writing there would destroy it" in res.stderr
    # the database named by RLMLLM_DB instead of --db
    monkeypatch.setenv("RLMLLM_DB", str(path))
    for args in (["export", "--format", "jsonl", "--out", str(path)], ["table", "--out", str(path)]):
        res = runner.invoke(cli, args)
        assert res.exit_code == 2 and "is the database" in res.stderr
    assert _papers_in(path) == 8
    assert not (tmp_path / "ow.db-journal").exists()


def test_export_writes_through_a_symlink(tdb, tmp_path: Path, runner) -> None:
    from rlmllm_graph.cli import cli

    target = tmp_path / "target.txt"
    target.write_text("old\n")
    target.chmod(0o640)
    link = tmp_path / "link.txt"
    link.symlink_to(target.name)
    res = runner.invoke(cli, ["export", "--db", str(tmp_path / "taxonomy.db"), "--format", "csv", "--out", str(link)])
    assert res.exit_code == 0, res.output
    assert link.is_symlink() and link.resolve() == target
    assert target.read_text().startswith("paper_id,title,")
    assert target.stat().st_mode & 0o777 == 0o640  # the file replaced keeps its mode
    dangling = tmp_path / "dangling.csv"
    dangling.symlink_to("new.csv")
    export_csv(tdb, dangling)
    assert dangling.is_symlink() and (tmp_path / "new.csv").read_text().startswith("paper_id,")
    assert not list(tmp_path.glob("*.part"))


def test_export_writes_directly_to_a_fifo(tdb, tmp_path: Path, runner) -> None:
    # a FIFO stands for every non-regular file (devices too): the code before this fix renamed its
    # temporary file over the target, so this test must never be pointed at a real device
    import os
    import stat
    import threading

    from rlmllm_graph.cli import cli

    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    for run in (lambda: export_jsonl(tdb, fifo),
                lambda: runner.invoke(cli, ["export", "--db", str(tmp_path / "taxonomy.db"), "--format", "bibtex",
                                            "--out", str(fifo)])):
        got: list[bytes] = []
        reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
        reader.start()
        result = run()
        reader.join(10)
        assert stat.S_ISFIFO(fifo.stat().st_mode)
        assert got and got[0]
        assert getattr(result, "exit_code", 0) == 0
    assert len(_bib(got[0].decode())) == 8  # the bibtex entries went through the FIFO
    assert not list(tmp_path.glob("*.part")) and not list(tmp_path.glob("fifo.*"))


def test_output_under_a_regular_file_is_a_usage_error(tdb, tmp_path: Path, runner) -> None:
    from rlmllm_graph.cli import cli

    afile = tmp_path / "afile"
    afile.write_text("x")
    for args in (["export", "--format", "csv"], ["export", "--format", "gexf"], ["table"]):
        out = afile / "x.out"
        res = runner.invoke(cli, [*args, "--db", str(tmp_path / "taxonomy.db"), "--out", str(out)])
        assert res.exit_code == 2, res.output
        assert res.stderr.splitlines() == [f"Error: cannot write {out}: {afile} is a file, not a folder"]
    with pytest.raises(BadInput, match="is a file, not a folder"):
        export_csv(tdb, afile / "x.csv")


def _full_disk(*args, **kwargs):
    import errno
    import os

    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_out_of_space_is_one_plain_line(tdb, tmp_path: Path, runner, monkeypatch) -> None:
    import csv as csv_mod

    from rlmllm_graph import export as export_mod
    from rlmllm_graph.cli import cli

    out = tmp_path / "out.csv"
    out.write_text("before\n")

    class FullWriter:
        def __init__(self, fh) -> None:
            self.writerow = _full_disk

    monkeypatch.setattr(export_mod.csv, "writer", FullWriter)
    res = runner.invoke(cli, ["export", "--db", str(tmp_path / "taxonomy.db"), "--format", "csv", "--out", str(out)])
    monkeypatch.setattr(export_mod.csv, "writer", csv_mod.writer)
    assert res.exit_code == 1
    assert res.stderr.splitlines() == [f"Error: cannot write: No space left on device ({out})"]
    assert out.read_text() == "before\n"  # the old file is kept whole
    assert not list(tmp_path.glob("*.part"))

    if not Path("/dev/full").exists():
        return
    # a real full device: every write fails with ENOSPC
    res = runner.invoke(cli, ["table", "--db", str(tmp_path / "taxonomy.db"), "--out", "/dev/full"])
    assert res.exit_code == 1
    assert res.stderr.splitlines() == ["Error: cannot write: No space left on device (/dev/full)"]


def test_export_to_dev_stdout_appends_to_the_callers_file(tmp_path):
    """``--out /dev/stdout`` (or /proc/self/fd/1) writes into the caller's open file, as `>>` asked, and never
    replaces the link or the file behind it."""
    import subprocess
    import sys

    db_path = tmp_path / "a.db"
    import_files(store.open_db(db_path), [FIXTURES / "mini_corpus.jsonl"])
    log = tmp_path / "app.log"
    for target in ("/dev/stdout", "/proc/self/fd/1"):
        log.write_text("old line\n")
        with log.open("a") as fh:
            r = subprocess.run([sys.executable, "-m", "rlmllm_graph", "export", "--db", str(db_path),
                                "--format", "csv", "--out", target], stdout=fh, stderr=subprocess.PIPE, text=True)
        assert r.returncode == 0, r.stderr
        lines = log.read_text().splitlines()
        assert lines[0] == "old line" and lines[1].startswith("paper_id,title") and len(lines) >= 5, target
    assert Path("/dev/stdout").is_symlink()


# --- the layer itself, as the library uses it ----------------------------------------------


def test_write_text_is_whole_or_nothing_and_keeps_the_mode(tmp_path: Path) -> None:
    target = tmp_path / "a.txt"
    target.write_text("old\n")
    target.chmod(0o600)
    assert output.write_text(target, "new\n") == target
    assert target.read_text() == "new\n" and target.stat().st_mode & 0o777 == 0o600
    with pytest.raises(RuntimeError), output.open_text(target) as fh:
        fh.write("half")
        raise RuntimeError("killed half way")
    assert target.read_text() == "new\n" and not list(tmp_path.glob("*.part"))
    link = tmp_path / "link.bin"
    link.symlink_to("bytes.bin")
    output.write_bytes(link, b"\x00\x01")
    assert link.is_symlink() and (tmp_path / "bytes.bin").read_bytes() == b"\x00\x01"


def test_the_library_never_writes_onto_its_own_database(tdb, tmp_path: Path) -> None:
    """Library callers get the guard too: the database is found from the connection."""
    db_file = tmp_path / "taxonomy.db"
    for target in (db_file, Path(str(db_file) + "-wal"), tmp_path / "x" / ".." / "taxonomy.db"):
        (tmp_path / "x").mkdir(exist_ok=True)
        with pytest.raises(BadInput, match="writing there would destroy it"):
            export_csv(tdb, target)
    assert store.paper_count(tdb) == 8
    assert store.database_file(tdb) == str(db_file.resolve())


def test_site_and_trends_folders_refuse_the_database_before_writing(tdb, tmp_path: Path) -> None:
    from rlmllm_graph.site import build_site
    from rlmllm_graph.trends import compute_trends_report
    from rlmllm_graph.trends_report import write_trends_report

    rep = compute_trends_report(tdb, relevance=None)
    with pytest.raises(BadInput, match=r"--out .*index.html is the database"):
        write_trends_report(rep, tmp_path / "t", protect=tmp_path / "t" / "index.html")
    assert not (tmp_path / "t").exists()  # refused before the folder was made
    written = write_trends_report(rep, tmp_path / "t", protect=tmp_path / "taxonomy.db")
    assert {p.name for p in written} >= {"index.html", "plotly.min.js", "emerging.csv", "papers_per_period.csv"}
    assert all(p.stat().st_size > 0 for p in written)
    with pytest.raises(BadInput, match="is the database"):
        build_site(tdb, tmp_path / "site", protect=tmp_path / "site" / "assets" / "site.js")
    assert not (tmp_path / "site" / "index.html").exists()


def test_prepare_folder(tmp_path: Path) -> None:
    assert output.prepare_folder(tmp_path / "a" / "b", ["x.csv"]).is_dir()
    (tmp_path / "f").write_text("x")
    for bad in (tmp_path / "f", tmp_path / "f" / "sub"):
        with pytest.raises(BadInput, match="a file is in the way"):
            output.prepare_folder(bad, ["x.csv"])


def test_check_output_file(tmp_path: Path) -> None:
    assert output.check_output_file("-") is None
    assert output.check_output_file(str(tmp_path / "x.csv")) == tmp_path / "x.csv"
    with pytest.raises(BadInput, match="an empty file name"):
        output.check_output_file("", option="--output")
    with pytest.raises(BadInput, match="is a folder"):
        output.check_output_file(str(tmp_path))


def test_write_if_changed_rewrites_only_what_changed(tmp_path: Path) -> None:
    target = tmp_path / "page.html"
    assert output.write_if_changed(target, b"<p>1</p>") is True
    before = target.stat().st_mtime_ns
    assert output.write_if_changed(target, b"<p>1</p>") is False and target.stat().st_mtime_ns == before
    assert output.write_if_changed(target, b"<p>2</p>") is True and target.read_bytes() == b"<p>2</p>"
    with pytest.raises(BadInput, match="is the database"):  # even when the bytes happen to match
        output.write_if_changed(target, b"<p>2</p>", protect=target)
