"""Exceptions raised by rlmllm-graph.

Every error the library raises derives from :class:`RlmGraphError`; the CLI
turns each into one line on stderr and an exit code (``exit_code``: 1 for a
failure at run time, 2 for a usage error or bad input)::

    RlmGraphError
    ├── BadInput                 (exit 2) bad argument, malformed file, unknown id
    │   ├── MalformedRecord      a line of an input file that cannot be read
    │   ├── MalformedText        a paper's HTML or LaTeX source that cannot be read safely
    │   └── PaperNotFound        an id the API or the database does not know
    ├── SourceError              (exit 1) the Semantic Scholar API failed us
    │   ├── ApiUnreachable       connection refused, DNS, repeated timeouts
    │   ├── RateLimited          429 after every retry
    │   ├── MalformedResponse    a response that is not the documented shape
    │   └── ResponseTooLarge     a response past the bytes we agree to read
    ├── StoreError               (exit 1) the SQLite database
    │   ├── NotADatabase         the file exists but is not SQLite (or is corrupt)
    │   │   └── NotOurDatabase   (exit 2) a read command given an empty or foreign file
    │   ├── DatabaseLocked       another process is writing
    │   ├── DatabaseMissing      a read command on a database that does not exist
    │   ├── BadDatabasePath      (exit 2) a folder, or a file in a folder that does not exist
    │   └── SchemaOutOfDate      written by a newer rlmllm-graph
    ├── ModelNotTrained          (exit 1) the classifier has no training data
    └── EmptyGraph               (exit 1) nothing to analyse yet
"""

from __future__ import annotations

__all__ = [
    "ApiUnreachable",
    "BadDatabasePath",
    "BadInput",
    "DatabaseLocked",
    "DatabaseMissing",
    "EmptyGraph",
    "MalformedRecord",
    "MalformedResponse",
    "MalformedText",
    "ModelNotTrained",
    "NotADatabase",
    "NotOurDatabase",
    "PaperNotFound",
    "RateLimited",
    "ResponseTooLarge",
    "RlmGraphError",
    "SchemaOutOfDate",
    "SourceError",
    "StoreError",
]


class RlmGraphError(Exception):
    """Base of every error rlmllm-graph raises on purpose."""

    exit_code = 1


class BadInput(RlmGraphError):
    """The user gave us something we cannot use (exit code 2)."""

    exit_code = 2


class MalformedRecord(BadInput):
    """A line of an input file that cannot be read; names the file and line."""

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None) -> None:
        self.path = path
        self.line = line
        where = ""
        if path is not None:
            where = f"{path}:{line}: " if line is not None else f"{path}: "
        super().__init__(f"{where}{message}")


class MalformedText(BadInput):
    """A paper's text (arXiv HTML, a LaTeX source bundle) that cannot be read safely: a gzip bomb,
    an unsafe member name, no sections at all. Nothing of it is stored."""


class PaperNotFound(BadInput):
    """An id that the API or the database does not know."""

    def __init__(self, paper_id: str, where: str = "") -> None:
        self.paper_id = paper_id
        super().__init__(f"paper not found: {paper_id}" + (f" ({where})" if where else ""))


class SourceError(RlmGraphError):
    """The Semantic Scholar API failed."""

    def __init__(self, message: str, *, url: str | None = None) -> None:
        self.url = url
        super().__init__(message)


class ApiUnreachable(SourceError):
    """The API could not be reached at all."""


class RateLimited(SourceError):
    """The API kept answering 429 after every retry."""


class MalformedResponse(SourceError):
    """The API answered with something that is not the documented shape."""


class ResponseTooLarge(SourceError):
    """A response larger than the bytes we agree to read (e.g. a huge page); nothing of it is kept."""


class StoreError(RlmGraphError):
    """The SQLite database cannot be used."""


class NotADatabase(StoreError):
    """The file exists but is not an SQLite database, or is corrupt."""


class NotOurDatabase(NotADatabase):
    """A read-only command was given a file that is not an rlmllm-graph database (empty, text, another
    application's SQLite file): a usage error, exit code 2; the file is left as it was."""

    exit_code = 2


class DatabaseLocked(StoreError):
    """Another process holds the write lock."""


class DatabaseMissing(StoreError):
    """A read-only command was pointed at a database that does not exist."""


class BadDatabasePath(StoreError):
    """The database path cannot be a database file (a usage error, exit code 2)."""

    exit_code = 2


class SchemaOutOfDate(StoreError):
    """The database was written by a newer version of rlmllm-graph."""


class ModelNotTrained(RlmGraphError):
    """The classifier has nothing to learn from."""


class EmptyGraph(RlmGraphError):
    """There is nothing to analyse: the database holds no papers."""
