"""Commands of the site group (see DESIGN.md)."""

from __future__ import annotations
