"""The living taxonomy table: rows, Markdown and HTML rendering, the ``table`` command."""

from __future__ import annotations

import html.parser
from pathlib import Path

import pytest

from rlmllm_graph import store
from rlmllm_graph.table import (
    TABLE_COLUMNS,
    build_taxonomy_table,
    model_name,
    modality_code,
    paper_link,
    render_table_html,
    render_table_markdown,
)
from taxonomy_fixture import build_taxonomy_db, pid

EXPECTED_MARKDOWN = """\
| Model | Date | Modality | Strategy | Algorithm | Reward | Application | Link |
|---|---|---|---|---|---|---|---|
| Learning to Reason about Point Clouds… | 2025-06 | T&3D | RL | PPO | Model | Spatial | [DOI](https://doi.org/10.1109/cvpr.2025.0042) |
| Omni\\_R1 \\<AV\\> \\| \\*Beta\\* | 2025-05 | T&V&A | SFT&RL | GRPO, DPO | Model, Process | General | [arXiv](https://arxiv.org/abs/2505.00001) |
| Vision Matters | 2025-04 | T&I | RL | GRPO | Rule | Math, Perception | [arXiv](https://arxiv.org/abs/2504.11111) |
| Video-R1 | 2025-03 | T&V | SFT&RL | GRPO | Rule | General | [arXiv](https://arxiv.org/abs/2503.21776) |
| Vision-R1 | 2025-03 | T&I | SFT&RL | GRPO | Rule | Math | [arXiv](https://arxiv.org/abs/2503.06749) |
"""


@pytest.fixture
def tdb(tmp_path: Path):
    d = build_taxonomy_db(tmp_path / "taxonomy.db")
    yield d
    d.conn.close()


def test_rows_are_core_papers_newest_first(tdb) -> None:
    rows = build_taxonomy_table(tdb)
    assert [r["paper_id"] for r in rows] == [pid(6), pid(4), pid(7), pid(3), pid(2)]
    vision = rows[-1]
    assert vision == {
        "paper_id": pid(2),
        "title": "Vision-R1: Incentivizing Reasoning Capability in Multimodal Large Language Models",
        "model": "Vision-R1",
        "date": "2025-03",
        "modality": "T&I",
        "strategy": "SFT&RL",
        "algorithm": "GRPO",
        "reward": "Rule",
        "application": "Math",
        "link": "https://arxiv.org/abs/2503.06749",
    }


def test_markdown_matches_expected(tdb) -> None:
    assert render_table_markdown(build_taxonomy_table(tdb)) == EXPECTED_MARKDOWN


def test_markdown_every_row_has_eight_cells(tdb) -> None:
    for line in render_table_markdown(build_taxonomy_table(tdb)).splitlines():
        unescaped_pipes = len(line.replace("\\|", "")) - len(line.replace("\\|", "").replace("|", ""))
        assert unescaped_pipes == len(TABLE_COLUMNS) + 1


def test_no_core_papers_gives_header_only(db) -> None:
    assert build_taxonomy_table(db) == []
    assert render_table_markdown([]).splitlines() == EXPECTED_MARKDOWN.splitlines()[:2]


def test_label_added_later_joins_the_table(tdb) -> None:
    with store.transaction(tdb):
        store.insert_labels(tdb, [{"paper_id": pid(5), "facet": "relevance", "value": "core",
                                   "confidence": 1.0, "source": "manual", "evidence": None}])
    rows = build_taxonomy_table(tdb)
    assert rows[-1]["model"] == "DeepSeekMath" and rows[-1]["date"] == "2024-02"
    assert rows[-1]["modality"] == "T" and rows[-1]["strategy"] == "not stated"


class _Cells(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self.tags: list[str] = []
        self.hrefs: list[str] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "a":
            self.hrefs.append(dict(attrs)["href"] or "")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append("".join(self._cell))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def test_html_escapes_every_cell(tdb) -> None:
    rows = build_taxonomy_table(tdb)
    out = render_table_html(rows)
    assert out.startswith('<table class="taxonomy-table">')
    parser = _Cells()
    parser.feed(out)
    assert parser.rows[0] == [h for _, h in TABLE_COLUMNS]
    assert parser.rows[2][0] == "Omni_R1 <AV> | *Beta*"  # text, not markup
    assert "b" not in parser.tags and "AV" not in parser.tags
    assert parser.rows[2][2] == "T&V&A"
    assert parser.hrefs[0] == "https://doi.org/10.1109/cvpr.2025.0042"
    page = render_table_html(rows, full_page=True)
    assert page.startswith("<!DOCTYPE html>") and "5 core papers" in page


def test_html_drops_non_http_links() -> None:
    row = {k: "x" for k, _ in TABLE_COLUMNS} | {"paper_id": "p", "title": "t", "link": "javascript:alert(1)"}
    out = render_table_html([row])
    assert "javascript" not in out


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Vision-R1: Incentivizing Reasoning Capability in Multimodal Large Language Models", "Vision-R1"),
        ("Skywork R1V2: Multimodal Hybrid Reinforcement Learning for Reasoning", "Skywork R1V2"),
        ("LMM-R1 - Empowering 3B LMMs with Strong Reasoning Abilities", "LMM-R1"),
        ("SFT or RL? An Early Investigation into Training R1-Like Reasoning Large Vision-Language Models",
         "SFT or RL? An Early Investigation…"),
        ("Short title", "Short title"),
        ("A Very Long Question That Is Not A Name: Subtitle", "A Very Long Question That Is…"),
    ],
)
def test_model_name(title: str, expected: str) -> None:
    assert model_name(title) == expected


def test_modality_code_uses_survey_order() -> None:
    assert modality_code(["audio", "video", "image"]) == "T&I&V&A"
    assert modality_code(["3d", "image"]) == "T&I&3D"


def test_paper_link_preference() -> None:
    assert paper_link({"arxiv_id": "2503.06749", "doi": "10.1/x"}) == "https://arxiv.org/abs/2503.06749"
    assert paper_link({"doi": "10.1/x y"}) == "https://doi.org/10.1/x%20y"
    assert paper_link({"url": "https://example.org/p"}) == "https://example.org/p"
    assert paper_link({"paper_id": "a" * 40}) == "https://www.semanticscholar.org/paper/" + "a" * 40
    assert paper_link({"paper_id": "CorpusId:1", "url": "ftp://x"}) == ""


def test_table_command_markdown_and_html(tmp_path: Path, runner) -> None:
    from rlmllm_graph.cli import cli

    path = tmp_path / "t.db"
    build_taxonomy_db(path).conn.close()
    res = runner.invoke(cli, ["table", "--db", str(path)])
    assert res.exit_code == 0
    assert res.stdout == EXPECTED_MARKDOWN
    out = tmp_path / "table.html"
    res = runner.invoke(cli, ["table", "--db", str(path), "--format", "html", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "Wrote 5 core papers" in res.stderr
    assert out.read_text().count("<tr data-paper-id=") == 5


def test_table_command_on_an_unclassified_database(tmp_path: Path, runner) -> None:
    from rlmllm_graph.cli import cli

    path = tmp_path / "t.db"
    store.open_db(path).conn.close()
    res = runner.invoke(cli, ["table", "--db", str(path)])
    assert res.exit_code == 0
    assert res.stdout.splitlines() == EXPECTED_MARKDOWN.splitlines()[:2]
    assert res.stderr.startswith("No core papers yet: run `rlmllm-graph classify`")


def test_table_command_missing_database(tmp_path: Path, runner) -> None:
    from rlmllm_graph.cli import cli

    res = runner.invoke(cli, ["table", "--db", str(tmp_path / "none.db")])
    assert res.exit_code == 1
    assert res.stderr.startswith("Error: no database at")
