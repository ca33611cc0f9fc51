"""Commands of the classify group (see DESIGN.md)."""

from __future__ import annotations
