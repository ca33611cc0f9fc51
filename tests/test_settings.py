"""Settings in one place: every setting is documented in docs/settings.md, the CLI takes its defaults, environment
variables and help from config.SETTINGS, and no default is written a second time."""

from __future__ import annotations

import ast
import os
from pathlib import Path

import click
import pytest

from rlmllm_graph import config
from rlmllm_graph.cli import cli
from rlmllm_graph.config import SETTINGS, setting

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "settings.md"
PACKAGE = ROOT / "src" / "rlmllm_graph"
BEGIN, END = "<!-- settings table: generated from config.SETTINGS -->", "<!-- end of settings table -->"


def settings_table() -> str:
    rows = ["| setting | option | environment | default | what it does |", "|---|---|---|---|---|"]
    for s in SETTINGS:
        default = "" if s.default is None else f"`{s.default}`"
        rows.append(f"| `{s.name}` | {f'`{s.option}`' if s.option else ''} | {f'`{s.env}`' if s.env else ''} "
                    f"| {default} | {s.help.replace('|', '&#124;')} |")
    return "\n".join(rows)


def test_every_setting_is_documented():
    text = DOC.read_text()
    expected = f"{BEGIN}\n{settings_table()}\n{END}"
    if os.environ.get("RLMLLM_WRITE_DOCS"):  # regenerate: RLMLLM_WRITE_DOCS=1 pytest tests/test_settings.py
        head, _, rest = text.partition(BEGIN)
        DOC.write_text(head + expected + rest.partition(END)[2])
        text = DOC.read_text()
    assert expected in text, "docs/settings.md is out of date: run RLMLLM_WRITE_DOCS=1 pytest tests/test_settings.py"


def test_setting_names_are_unique_and_resolvable():
    assert len({s.name for s in SETTINGS}) == len(SETTINGS)
    assert len({s.env for s in SETTINGS if s.env}) == len([s for s in SETTINGS if s.env])
    assert config.DEFAULT_DB == setting("db").default and config.DEFAULT_SEED == setting("seed").default


def _options():
    """(command name, click option) for every option of every command."""
    for name, cmd in sorted(cli.commands.items()):
        for p in cmd.params:
            if isinstance(p, click.Option):
                yield name, p


def test_the_cli_takes_defaults_env_and_help_from_the_settings():
    checked = set()
    for command, p in _options():
        # an option name may serve two settings (--seed: a paper for refresh, a random seed elsewhere; --pace:
        # Semantic Scholar's for refresh, arXiv's for fulltext): the option's help says which
        matches = [s for s in SETTINGS if s.option in p.opts and s.help.removesuffix(".") in (p.help or "")]
        if not matches:
            assert not any(s.option in p.opts and s.env and s.env == p.envvar for s in SETTINGS), (command, p.name)
            continue
        assert len(matches) == 1, (command, p.name)
        s = matches[0]
        if p.multiple:
            assert p.default == (s.default,), (command, p.name)
        elif s.name != "api_url":  # its environment variable is read by resolve_settings (to refuse a blank)
            assert p.default == s.default and p.envvar == s.env, (command, p.name)
        checked.add(s.name)
    assert checked == {s.name for s in SETTINGS if s.option}


def _literal_defaults(tree: ast.AST):
    """(line, value) of every literal written as a keyword default (``default=…``, ``envvar=…``) or a
    parameter default."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            for kw in node.keywords:
                if kw.arg in ("default", "envvar") and isinstance(kw.value, ast.Constant):
                    yield kw.arg, kw.value.lineno, kw.value.value
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            args = node.args.posonlyargs + node.args.args
            pairs = list(zip(args[len(args) - len(node.args.defaults):], node.args.defaults))
            pairs += [(a, d) for a, d in zip(node.args.kwonlyargs, node.args.kw_defaults) if d is not None]
            for a, d in pairs:
                if isinstance(d, ast.Constant):
                    yield a.arg, d.lineno, d.value


#: where each setting's default would otherwise be repeated: the CLI, and the modules that use the setting
WHERE = ["cli/*.py", "sources/*.py", "store/core.py", "crawl.py", "classify/model.py"]


@pytest.mark.parametrize("pattern", WHERE)
def test_no_setting_default_is_written_twice(pattern):
    names = {s.name for s in SETTINGS} | {"db_path", "seeds", "busy_timeout_ms"}
    envs = {s.env for s in SETTINGS if s.env}
    found = []
    for path in sorted(PACKAGE.glob(pattern)):
        for what, line, value in _literal_defaults(ast.parse(path.read_text())):
            where = f"{path.relative_to(PACKAGE)}:{line}"
            if what == "envvar" and value in envs:
                found.append(f"{where}: envvar={value!r}")
            elif what in names and value is not None and value == setting(what if what in config._BY_NAME
                                                                             else "db").default:
                found.append(f"{where}: {what}={value!r}")
            elif what == "default" and value is not None and pattern == "cli/*.py" and any(
                    value == s.default and type(value) is type(s.default) for s in SETTINGS if s.option):
                found.append(f"{where}: default={value!r}")
    assert not found, "take these from config.SETTINGS"
