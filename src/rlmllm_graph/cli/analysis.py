"""Commands of the analysis group (see DESIGN.md)."""

from __future__ import annotations
