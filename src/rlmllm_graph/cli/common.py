"""The command group, its error handling, and options shared by several commands."""

from __future__ import annotations

import errno
import io
import json
import os
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
import sqlite_utils

from .. import store
from ..config import DEFAULT_DB, resolve_settings
from ..errors import BadInput, RlmGraphError
from ..export import check_file_target, naming_errors

F = TypeVar("F", bound=Callable[..., Any])

__all__ = [
    "check_output_file",
    "cli",
    "db_option",
    "echo_json",
    "json_option",
    "naming_errors",
    "open_database",
    "progress_bar",
    "refuse_database_path",
]


class _Group(click.Group):
    """A click group whose every failure is one line on stderr with the right exit code."""

    def main(self, *args: Any, **kwargs: Any) -> Any:  # noqa: D102
        kwargs["standalone_mode"] = False
        debug = bool(os.environ.get("RLMLLM_DEBUG"))
        try:
            rv = super().main(*args, **kwargs)
        except click.UsageError as e:
            cmd = e.ctx.command_path if e.ctx else "rlmllm-graph"
            _fail(f"{e.format_message()} (see '{cmd} --help')", 2)
        except click.ClickException as e:
            _fail(e.format_message(), e.exit_code)
        except click.exceptions.Abort:
            _fail("aborted", 1)
        except RlmGraphError as e:
            if debug:
                raise
            _fail(str(e), e.exit_code)
        except KeyboardInterrupt:
            _fail("interrupted; what was already stored stays stored (run the command again to resume)", 130)
        except BrokenPipeError:
            sys.exit(0)
        except sqlite3.Error as e:
            if debug:
                raise
            _fail(f"database: {e}", 1)
        except OSError as e:  # a full disk, a read-only file system, no permission: the system's words
            if debug:
                raise
            if not e.errno:
                _fail(f"unexpected {type(e).__name__}: {e} (set RLMLLM_DEBUG=1 for a traceback)", 1)
            _fail(_os_error_message(e), 1)
        except Exception as e:  # the last resort: still one line, never a traceback
            if debug:
                raise
            _fail(f"unexpected {type(e).__name__}: {e} (set RLMLLM_DEBUG=1 for a traceback)", 1)
        sys.exit(rv if isinstance(rv, int) else 0)


#: errno values that mean the output could not be written, whatever the file
_WRITE_ERRNOS = frozenset(
    getattr(errno, name) for name in ("ENOSPC", "EDQUOT", "EFBIG", "EROFS") if hasattr(errno, name)
)


def _os_error_message(e: OSError) -> str:
    """``cannot write: No space left on device (out.csv)`` — the system's words, without "unexpected"."""
    reason = e.strerror or os.strerror(e.errno or 0)
    where = f" ({e.filename})" if e.filename else ""
    if e.errno in _WRITE_ERRNOS:
        _quiet_stdout()
        return f"cannot write: {reason}{where}"
    return f"{e.filename}: {reason}" if e.filename else reason


def _quiet_stdout() -> None:
    """Output to a full device still sits in stdout's buffer; drop it so exit does not fail a second time."""
    try:
        sys.stdout.flush()
    except (OSError, ValueError):
        try:
            fd = os.open(os.devnull, os.O_WRONLY)
            os.dup2(fd, sys.stdout.fileno())
            os.close(fd)
        except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
            pass


def _fail(message: str, code: int) -> None:
    message = " ".join(str(message).split())  # one line, whatever the library said
    click.echo(f"Error: {message}", err=True)
    sys.exit(code)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="rlmllm-graph")
def cli() -> None:
    """Track RL-based reasoning in multimodal LLMs: crawl the citation graph of the
    Reinforced MLLM survey (arXiv 2504.21277), classify every paper by the
    survey's taxonomy, and analyse, chart and explore it.

    \b
    Typical session:
      rlmllm-graph refresh                 # crawl Semantic Scholar into data/rlmllm.db
      rlmllm-graph classify                # tag papers (algorithm, reward, modality, ...)
      rlmllm-graph stats                   # what is in the database
      rlmllm-graph report --out site/      # static site: trends, graph explorer, tables

    The database is data/rlmllm.db unless --db or RLMLLM_DB says otherwise.
    """


def db_option(f: F) -> F:
    return click.option(
        "--db",
        "db_path",
        type=click.Path(dir_okay=False),
        envvar="RLMLLM_DB",
        default=DEFAULT_DB,
        show_default=True,
        help="SQLite database file (env RLMLLM_DB).",
    )(f)


_DB_SIBLINGS = ("", "-wal", "-shm", "-journal")


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)  # hard links, symlinks, case-insensitive file systems
    except OSError:  # one of them does not exist (yet): compare where they would be
        return os.path.realpath(a) == os.path.realpath(b)


def refuse_database_path(out: str | os.PathLike[str], db_path: str | os.PathLike[str] | None,
                         *, option: str = "--out") -> None:
    """Raise BadInput (exit 2) when ``out`` is the database file or its -wal, -shm or -journal file.

    Writing an export or a label file there would destroy every stored row.
    ``db_path`` is the command's ``--db`` value (None: RLMLLM_DB or the default).
    """
    target = os.fspath(out)
    if target in ("", "-"):
        return
    db = str(resolve_settings(db=os.fspath(db_path) if db_path is not None else None, api=False).db)
    if not db or db == ":memory:":
        return
    for base in dict.fromkeys((db, os.path.realpath(db))):
        for suffix in _DB_SIBLINGS:
            if _same_file(target, base + suffix):
                what = "the database" if not suffix else f"the database's {suffix[1:]} file"
                if os.path.normpath(target) != os.path.normpath(db + suffix):
                    what += f" ({db}{suffix})"
                raise BadInput(f"{option} {target} is {what}; writing there would destroy it; choose another file")


def check_output_file(out: str, db_path: str | os.PathLike[str] | None, *, option: str = "--out") -> Path | None:
    """Check a file a command is about to write (None for '-', standard output).

    Refused with BadInput (exit 2): an empty name, a folder, a folder that does
    not exist or is a file, and the database itself (:func:`refuse_database_path`).
    Symlinks are judged by where they point.
    """
    if out == "-":
        return None
    if not out:
        raise BadInput(f"{option}: an empty file name")
    path = Path(out)
    check_file_target(path, shown=f"{option} {out}")
    refuse_database_path(out, db_path, option=option)
    return path


def json_option(f: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print one JSON object for scripts.")(f)


def open_database(db_path: str, *, create: bool = True, readonly: bool = False) -> sqlite_utils.Database:
    """Open the database for a command; the default location's folder is created on first use."""
    settings = resolve_settings(db=db_path, api=False)
    path = Path(settings.db)
    if create and not readonly and settings.db == DEFAULT_DB and not path.parent.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
    db = store.open_db(path, create=create, readonly=readonly, busy_timeout_ms=settings.busy_timeout_ms)
    ctx = click.get_current_context(silent=True)
    if ctx is not None:
        ctx.call_on_close(db.conn.close)
    return db


def echo_json(obj: Any) -> None:
    click.echo(json.dumps(obj, indent=2, default=str, ensure_ascii=False))


class _NoBar:
    def __enter__(self) -> _NoBar:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def update(self, n: int, current_item: object = None) -> None:
        return None


def progress_bar(length: int, label: str, *, show_pos: bool = False) -> Any:
    """A progress bar on stderr; silent when stderr is not a terminal (scripts, CI, tests)."""
    if not sys.stderr.isatty():
        return _NoBar()
    return click.progressbar(length=length, label=label, file=sys.stderr, show_pos=show_pos, show_percent=True)
