"""The label vocabulary (docs/schema.md): facets, their values, and which facets take one value."""

from __future__ import annotations

import json

from collections.abc import Iterable, Mapping

from ..errors import BadInput

__all__ = [
    "ALGORITHM_NAMES",
    "DISPLAY_NAMES",
    "FACETS",
    "FACET_ORDER",
    "MODALITY_CODES",
    "NONE",
    "SINGLE_VALUED",
    "VALUE_FREE_ALGORITHMS",
    "check_labels",
    "empty_labels",
    "ordered_facets",
    "parse_assignments",
]

#: facet -> its values, in the order the vocabulary lists them
FACETS: dict[str, tuple[str, ...]] = {
    "relevance": ("core", "related", "other"),
    "modality": ("image", "video", "audio", "3d"),
    "algorithm": ("grpo", "ppo", "dpo", "rloo", "reinforce", "opmd", "other"),
    "paradigm": ("value-free", "value-based"),
    "reward": ("rule", "model", "process"),
    "strategy": ("rl", "sft+rl"),
    "application": ("general", "math", "medical", "gui-agent", "spatial", "perception", "generation", "other"),
}

#: facets whose kind is "one": relevance always has exactly one value, strategy at most one
SINGLE_VALUED = frozenset({"relevance", "strategy"})

#: the word ``label`` takes for "no value in this facet" (``modality=none``: text only)
NONE = "none"

#: the facets in the order every report, export and page shows them
FACET_ORDER: tuple[str, ...] = tuple(FACETS)

#: how the survey writes each value (the taxonomy table, community names)
DISPLAY_NAMES: dict[str, dict[str, str]] = {
    "relevance": {"core": "Core", "related": "Related", "other": "Other"},
    "modality": {"image": "Image", "video": "Video", "audio": "Audio", "3d": "3D"},
    "algorithm": {"grpo": "GRPO", "ppo": "PPO", "dpo": "DPO", "rloo": "RLOO", "reinforce": "REINFORCE",
                  "opmd": "OPMD", "other": "Other"},
    "paradigm": {"value-free": "Value-free", "value-based": "Value-based"},
    "reward": {"rule": "Rule", "model": "Model", "process": "Process"},
    "strategy": {"rl": "RL", "sft+rl": "SFT&RL"},
    "application": {"general": "General", "math": "Math", "medical": "Medical", "gui-agent": "GUI Agent",
                    "spatial": "Spatial", "perception": "Perception", "generation": "Generation", "other": "Other"},
}
ALGORITHM_NAMES: dict[str, str] = DISPLAY_NAMES["algorithm"]

#: the survey's one-letter modality codes, after "T&" for text (T&I, T&V&A, T&3D)
MODALITY_CODES: dict[str, str] = {"image": "I", "video": "V", "audio": "A", "3d": "3D"}

#: algorithms with no learned critic (the survey's "value-model-free" family)
VALUE_FREE_ALGORITHMS = frozenset({"grpo", "dpo", "rloo", "reinforce", "opmd"})


def ordered_facets(found: Iterable[str] = ()) -> list[str]:
    """Every facet of the vocabulary in :data:`FACET_ORDER`, then any other facet in ``found``, sorted."""
    return list(FACET_ORDER) + sorted(set(found) - set(FACET_ORDER))


def empty_labels() -> dict[str, list[str]]:
    """Every facet with an empty list."""
    return {f: [] for f in FACETS}


def check_labels(labels: Mapping[str, Iterable[str]]) -> dict[str, list[str]]:
    """Validate ``{facet: [values]}`` against the vocabulary; returns every facet, values in vocabulary order.

    Raises :class:`BadInput` naming the unknown facet or value.
    """
    out = empty_labels()
    for facet, values in labels.items():
        if facet not in FACETS:
            raise BadInput(f"unknown facet {facet!r} (facets: {', '.join(FACETS)})")
        if isinstance(values, str):
            values = [values]
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise BadInput(f"facet {facet} needs a list of values (strings), got {json.dumps(values)[:60]}")
        vals = list(dict.fromkeys(values))
        for v in vals:
            if v not in FACETS[facet]:
                raise BadInput(f"unknown value {v!r} for facet {facet} (values: {', '.join(FACETS[facet])})")
        if facet in SINGLE_VALUED and len(vals) > 1:
            raise BadInput(f"facet {facet} takes one value, got {', '.join(vals)}")
        out[facet] = sorted(vals, key=FACETS[facet].index)
    return out


def parse_assignments(pairs: Iterable[str]) -> dict[str, list[str]]:
    """``["modality=image,video", "relevance=core"]`` -> ``{"modality": ["image", "video"], "relevance": ["core"]}``.

    A facet may be repeated (``modality=image modality=video``); ``FACET=none`` gives an empty list (e.g.
    ``modality=none``: text only). Raises :class:`BadInput`.
    """
    found: dict[str, list[str]] = {}
    for pair in pairs:
        facet, sep, value = pair.partition("=")
        facet = facet.strip().lower()
        if not sep or not facet:
            raise BadInput(f"expected FACET=VALUE, got {pair!r}")
        values = list(dict.fromkeys(v.strip().lower() for v in value.split(",") if v.strip()))
        if not values:
            raise BadInput(f"no value given for facet {facet!r} in {pair!r} (use {facet}=none for none)")
        if NONE in values:
            if len(values) > 1 or found.get(facet):
                raise BadInput(f"{facet}=none cannot be combined with other values of {facet}")
            if facet == "relevance":
                raise BadInput("relevance takes exactly one value: core, related or other")
            values = []
        elif facet in found and not found[facet] and facet in FACETS:
            raise BadInput(f"{facet}=none cannot be combined with other values of {facet}")
        found.setdefault(facet, []).extend(values)
    if not found:
        raise BadInput("give at least one FACET=VALUE")
    checked = check_labels(found)
    return {f: checked[f] for f in found}
