"""Commands of the export group (see DESIGN.md)."""

from __future__ import annotations
