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
