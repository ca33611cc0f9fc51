"""Writing files: the one place that decides how a command's output reaches the disk.

Every file rlmllm-graph writes (exports, the taxonomy table, ``classify
--output``, the trends folder, the report site) goes through here, so each rule
holds everywhere:

* **Whole or not at all.** A regular file is written to a temporary file beside
  it and renamed into place: a failed write (a full disk, Ctrl-C) leaves the old
  file as it was and no half file. The new file keeps the mode of the one it
  replaces.
* **Symlinks are written through.** The file a link points to is replaced; the
  link stays (a dangling link gets its target created).
* **Devices and FIFOs are written straight** (a rename would put a regular file in
  their place); so is anything under ``/dev`` or ``/proc`` (``/dev/stdout``,
  ``/dev/fd/N``: the caller's own open file, appended to, never truncated).
* **Never onto the database.** A target that is the database file, or its
  ``-wal``, ``-shm`` or ``-journal`` file (by any name: a symlink, a hard link,
  ``a/../db``), is refused with :class:`~rlmllm_graph.errors.BadInput` before
  anything is written. Callers name the database as ``protect``.
* **Plain errors.** A folder, a missing folder or a path under a regular file is
  a :class:`~rlmllm_graph.errors.BadInput`; a write the system refuses (a full
  disk) is an :class:`OSError` that names the file.
"""

from __future__ import annotations

import io
import os
import stat
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Union

from .errors import BadInput

__all__ = [
    "Output",
    "PathLike",
    "check_file_target",
    "check_output_file",
    "naming_errors",
    "open_text",
    "prepare_folder",
    "refuse_database_path",
    "write_bytes",
    "write_if_changed",
    "write_text",
]

PathLike = Union[str, "os.PathLike[str]"]
#: where an export may go: a path, or an open text or binary stream
Output = Union[str, "os.PathLike[str]", IO[str], IO[bytes]]

_DB_SIBLINGS = ("", "-wal", "-shm", "-journal")


@contextmanager
def naming_errors(path: PathLike) -> Iterator[None]:
    """An OSError raised without a file name (a write to a full disk) is given ``path``."""
    try:
        yield
    except OSError as e:
        if e.errno and not e.filename:
            raise OSError(e.errno, e.strerror, os.fspath(path)) from None
        raise


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)  # hard links, symlinks, case-insensitive file systems
    except OSError:  # one of them does not exist (yet): compare where they would be
        return os.path.realpath(a) == os.path.realpath(b)


def refuse_database_path(out: PathLike, protect: PathLike | None, *, option: str = "--out") -> None:
    """Raise BadInput when ``out`` is the database ``protect`` or its -wal, -shm or -journal file.

    Writing there would destroy every stored row. ``option`` names the value in
    the message; ``protect`` None (or ``:memory:``) protects nothing.
    """
    target = os.fspath(out)
    db = os.fspath(protect) if protect is not None else ""
    if target in ("", "-") or not db or db == ":memory:":
        return
    for base in dict.fromkeys((db, os.path.realpath(db))):
        for suffix in _DB_SIBLINGS:
            if _same_file(target, base + suffix):
                what = "the database" if not suffix else f"the database's {suffix[1:]} file"
                if os.path.normpath(target) != os.path.normpath(db + suffix):
                    what += f" ({db}{suffix})"
                raise BadInput(f"{option} {target} is {what}; writing there would destroy it; choose another file")


def check_file_target(path: PathLike, shown: str | None = None, *, protect: PathLike | None = None,
                      option: str = "--out") -> Path:
    """Check that a file can be written at ``path`` (and where a symlink there points); returns the real path.

    Raises :class:`BadInput` for a folder, a missing folder, a folder that is a
    file, and the database ``protect`` (:func:`refuse_database_path`). ``shown``
    names the path in the message (e.g. ``"--out x.csv"``).
    """
    path = Path(path)
    real = Path(os.path.realpath(path))
    for p in dict.fromkeys((path, real)):
        if p.is_dir():
            raise BadInput(f"{shown or path} is a folder; give a file name")
        if not p.parent.exists():
            raise BadInput(f"cannot write {path}: folder {p.parent} does not exist")
        if not p.parent.is_dir():
            raise BadInput(f"cannot write {path}: {p.parent} is a file, not a folder")
    refuse_database_path(path, protect, option=option)
    return real


def check_output_file(out: str, *, protect: PathLike | None = None, option: str = "--out") -> Path | None:
    """Check the file a command is about to write: its Path, or None for ``-`` (standard output).

    An empty name is a :class:`BadInput` too; otherwise as :func:`check_file_target`.
    """
    if out == "-":
        return None
    if not out:
        raise BadInput(f"{option}: an empty file name")
    check_file_target(out, shown=f"{option} {out}", protect=protect, option=option)
    return Path(out)


def prepare_folder(folder: PathLike, names: Iterable[str], *, protect: PathLike | None = None,
                   option: str = "--out") -> Path:
    """Create ``folder`` (and its parents) for the files ``names``, after checking none of them is the database.

    Raises :class:`BadInput` when a file stands where the folder should be.
    """
    out = Path(folder)
    for name in names:
        refuse_database_path(out / name, protect, option=option)
    if out.exists() and not out.is_dir():
        raise BadInput(f"cannot create folder {out}: a file is in the way")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise BadInput(f"cannot create folder {out}: a file is in the way") from None
    return out


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextmanager
def _open_path(path: Path, *, binary: bool, protect: PathLike | None) -> Iterator[IO]:  # type: ignore[type-arg]
    real = check_file_target(path, protect=protect)
    try:
        st: os.stat_result | None = os.stat(path)  # follows links the way open() does (/proc/self/fd/1 too)
    except FileNotFoundError:
        st = None
    text_kw: dict[str, str] = {} if binary else {"encoding": "utf-8", "newline": ""}
    special = os.path.abspath(path).startswith(("/dev/", "/proc/"))  # /dev/stdout, /dev/fd/N: the caller's
    if special or (st is not None and not stat.S_ISREG(st.st_mode)):
        # append, never truncate: behind /dev/stdout may be the caller's `>> log` file
        with naming_errors(path), open(path, "ab" if binary else "a", **text_kw) as fh:
            yield fh
        return
    fd, tmp_name = tempfile.mkstemp(prefix=real.name + ".", suffix=".part", dir=real.parent)
    tmp = Path(tmp_name)
    try:
        with naming_errors(path), open(fd, "wb" if binary else "w", **text_kw) as fh:
            # mkstemp makes the file 0600: keep the mode of the file replaced, or what a new file would get
            os.chmod(tmp, stat.S_IMODE(st.st_mode) if st is not None else 0o666 & ~_umask())
            yield fh
        with naming_errors(path):
            os.replace(tmp, real)
    finally:
        if tmp.exists():
            tmp.unlink()


def _is_binary(fh: object) -> bool:
    if isinstance(fh, (io.RawIOBase, io.BufferedIOBase)):
        return True
    if isinstance(fh, io.TextIOBase):
        return False
    return "b" in str(getattr(fh, "mode", ""))


@contextmanager
def open_text(out: Output, *, protect: PathLike | None = None) -> Iterator[IO[str]]:
    """A text stream onto ``out``: a path is written by the rules above; a binary stream gets UTF-8; a text
    stream is used as it is."""
    if isinstance(out, (str, os.PathLike)):
        with _open_path(Path(out), binary=False, protect=protect) as fh:
            yield fh
    elif _is_binary(out):
        wrapper = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)  # type: ignore[arg-type]
        try:
            yield wrapper
            wrapper.flush()
        finally:
            wrapper.detach()
    else:
        yield out  # type: ignore[misc]


def write_text(path: PathLike, text: str, *, protect: PathLike | None = None) -> Path:
    """Write ``text`` (UTF-8) to ``path`` by the rules above; returns the path."""
    with open_text(path, protect=protect) as fh:
        fh.write(text)
    return Path(path)


def write_if_changed(path: PathLike, data: bytes, *, protect: PathLike | None = None) -> bool:
    """Write ``data`` to ``path`` by the rules above unless it already holds exactly these bytes.

    Returns whether it wrote (a rebuild that changes little rewrites little).
    """
    p = Path(path)
    try:
        if p.is_file() and p.stat().st_size == len(data) and p.read_bytes() == data:
            refuse_database_path(p, protect)  # an unchanged file is still never taken for the database
            return False
    except OSError:
        pass
    write_bytes(p, data, protect=protect)
    return True


def write_bytes(path: PathLike, data: bytes, *, protect: PathLike | None = None) -> Path:
    """Write ``data`` to ``path`` by the rules above; returns the path."""
    with _open_path(Path(path), binary=True, protect=protect) as fh:
        fh.write(data)
    return Path(path)
