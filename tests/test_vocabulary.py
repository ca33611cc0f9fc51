"""One source for each vocabulary: facet order, display names and the script-escape table are defined once."""

from __future__ import annotations

import re
from pathlib import Path

from rlmllm_graph.classify.vocabulary import DISPLAY_NAMES, FACET_ORDER, FACETS, MODALITY_CODES, ordered_facets
from rlmllm_graph.explore import JS_ESCAPES, json_for_script

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "rlmllm_graph"
VOCABULARY = PACKAGE / "classify" / "vocabulary.py"


def _sources() -> dict[Path, str]:
    return {p: p.read_text() for p in PACKAGE.rglob("*") if p.suffix in (".py", ".js") and "min.js" not in p.name}


def test_display_names_cover_the_vocabulary_exactly():
    assert list(DISPLAY_NAMES) == list(FACET_ORDER) == list(FACETS)
    for facet, values in FACETS.items():
        assert tuple(DISPLAY_NAMES[facet]) == values, facet
    assert set(MODALITY_CODES) == set(FACETS["modality"])
    assert ordered_facets(["zeta", "modality", "alpha"]) == [*FACET_ORDER, "alpha", "zeta"]


def test_the_facet_list_and_value_spellings_are_written_once():
    facets_in_a_row = re.compile(r'"relevance",\s*"modality",\s*"algorithm"')
    survey_spelling = re.compile(r'"SFT&RL"|"GUI Agent"')
    for path, text in _sources().items():
        if path == VOCABULARY:
            continue
        assert not facets_in_a_row.search(text), f"{path} lists the facets again: use FACET_ORDER"
        assert not survey_spelling.search(text), f"{path} spells values again: use DISPLAY_NAMES"


def test_the_script_escape_table_is_written_once():
    owners = [p.relative_to(PACKAGE) for p, text in _sources().items() if "0x2028" in text or "\\u2028" in text]
    assert owners == [Path("explore/__init__.py")]
    assert json_for_script(["</script>\u2028&"]) == '["\\u003c/script\\u003e\\u2028\\u0026"]'
    assert set(JS_ESCAPES) == {ord("<"), ord(">"), ord("&"), 0x2028, 0x2029}
