"""Commands of the crawl group (see DESIGN.md)."""

from __future__ import annotations
