"""Shared fixtures: temporary databases, the CLI runner, and ../shared/data when present."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from rlmllm_graph import store
from rlmllm_graph.cli import cli

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures"
SHARED_DATA = ROOT.parent / "shared" / "data"


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "test.db"


@pytest.fixture
def db(db_path: Path):
    d = store.open_db(db_path)
    yield d
    d.conn.close()


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def invoke(runner: CliRunner, db_path: Path):
    """Run the CLI with ``--db`` pointing at the test database (stderr kept apart)."""

    def run(*args: str, db: bool = True, input: str | None = None):
        argv = list(args)
        if db:
            argv += ["--db", str(db_path)]
        return runner.invoke(cli, argv, input=input, catch_exceptions=False)

    return run


@pytest.fixture
def shared_data() -> Path:
    if not (SHARED_DATA / "corpus.jsonl").exists():
        pytest.skip("../shared/data is not present (a user's clone does not have it)")
    return SHARED_DATA


def write_jsonl(path: Path, records: list) -> Path:
    with path.open("w") as fh:
        for r in records:
            fh.write((r if isinstance(r, str) else json.dumps(r)) + "\n")
    return path


#: Environment that makes the API clients fast in tests: no pacing, tiny back-off, short time-outs.
FAST_S2 = {"RLMLLM_S2_PACE": "0", "RLMLLM_S2_BACKOFF": "0.001", "RLMLLM_S2_TIMEOUT": "5"}


@pytest.fixture
def fast_s2(monkeypatch: pytest.MonkeyPatch) -> None:
    """The Semantic Scholar client at full speed, with no key and no API URL from the caller's environment."""
    for k, v in FAST_S2.items():
        monkeypatch.setenv(k, v)
    monkeypatch.delenv("S2_API_KEY", raising=False)
    monkeypatch.delenv("S2_API_URL", raising=False)
