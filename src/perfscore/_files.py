"""Every file perfscore reads goes through here: regular files only, and bounded.

A name given by a user, a rubric or a case file may lead to a device (``/dev/zero``), a
named pipe, a socket or a folder, by itself or through a symbolic link. Such a file is
refused at once (``file.not_regular``): it is looked at with ``stat`` and opened without
waiting (``O_NONBLOCK``), never read into memory or waited on. A regular file read whole
is read to at most its limit plus one byte (``file.too_large``), whatever size it
claims, so a file that grows while it is read costs no more.

:func:`read_bounded` reads a file whole; :func:`open_regular` opens one for streaming (a
population), whose rows are bounded by their reader.
"""

from __future__ import annotations

import glob
import os
import re
import secrets
import stat
from pathlib import Path, PurePosixPath
from typing import BinaryIO, Final

from .errors import Issue, Location

__all__ = [
    "FileRefused",
    "confine",
    "is_regular",
    "open_regular",
    "read_bounded",
    "remove_stale_temporaries",
    "temporary_beside",
    "write_whole",
]

_FLAGS: Final = (
    os.O_RDONLY
    | getattr(os, "O_NONBLOCK", 0)  # a named pipe opens at once, without a writer
    | getattr(os, "O_NOCTTY", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)


class FileRefused(Exception):
    """A file that cannot or may not be read; ``issue`` says which and why."""

    def __init__(self, issue: Issue) -> None:
        super().__init__(str(issue))
        self.issue = issue


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "folder"
    if stat.S_ISFIFO(mode):
        return "pipe"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device"
    if stat.S_ISSOCK(mode):
        return "socket"
    return "other"


def _unreadable(name: str, error: OSError) -> FileRefused:
    return FileRefused(
        Issue.of("file.unreadable", Location(file=name), reason=str(error.strerror or error))
    )


def _not_regular(name: str, mode: int) -> FileRefused:
    return FileRefused(Issue.of("file.not_regular", Location(file=name), kind=_kind(mode)))


def _open(path: str | os.PathLike[str]) -> tuple[int, os.stat_result]:
    """A descriptor of the regular file ``path`` and its status; FileRefused otherwise."""
    name = os.fspath(path)
    try:
        before = os.stat(name)  # follows links; opens nothing
    except OSError as error:
        raise _unreadable(name, error) from None
    except ValueError as error:  # a NUL byte in the name
        raise _unreadable(name, OSError(str(error))) from None
    if not stat.S_ISREG(before.st_mode):
        raise _not_regular(name, before.st_mode)
    try:
        fd = os.open(name, _FLAGS)
    except OSError as error:
        raise _unreadable(name, error) from None
    try:
        status = os.fstat(fd)  # the file opened, should the name have changed meanwhile
        if not stat.S_ISREG(status.st_mode):
            raise _not_regular(name, status.st_mode)
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd, status


def read_bounded(path: str | os.PathLike[str], limit: int) -> bytes:
    """The bytes of the regular file ``path``, at most ``limit`` of them.

    Raises :class:`FileRefused` (``file.unreadable``, ``file.not_regular``,
    ``file.too_large``); at most ``limit + 1`` bytes are ever read."""
    name = os.fspath(path)
    fd, status = _open(name)
    with os.fdopen(fd, "rb") as handle:
        size = status.st_size
        if size <= limit:
            try:
                data = handle.read(limit + 1)
            except OSError as error:
                raise _unreadable(name, error) from None
            size = len(data)
    if size > limit:
        raise FileRefused(
            Issue.of("file.too_large", Location(file=name), size=str(size), limit=str(limit))
        )
    return data


def open_regular(path: str | os.PathLike[str]) -> BinaryIO:
    """The regular file ``path`` opened for reading in binary (to be streamed by a
    reader that bounds what it holds); :class:`FileRefused` for anything else."""
    fd, _ = _open(path)
    return os.fdopen(fd, "rb")


def is_regular(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is a regular file (through links), without opening it."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except (OSError, ValueError):
        return False


def confine(folder: Path, name: object, location: Location) -> Path:
    """The file ``name`` names beside ``folder``, as ``extends`` names a rubric: a
    non-empty relative path without ``..``, ``\\``, ``:`` or NUL. Raises
    :class:`FileRefused` (``file.outside``, at ``location``) before anything is opened."""
    text = name if isinstance(name, str) else ""
    pure = PurePosixPath(text)
    if (
        not text.strip()
        or pure.is_absolute()
        or ".." in pure.parts
        or any(c in text for c in "\\:\0")
    ):
        raise FileRefused(Issue.of("file.outside", location, name=str(name)[:200]))
    return folder / pure


# --------------------------------------------------------------------------- writing

_TEMPORARY: Final = re.compile(r"\.(\d+)-[0-9a-f]+\.tmp")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: is there such a process? (POSIX only)
    except ProcessLookupError:
        return False
    except OSError:  # another user's process, or no way to tell: keep its file
        return True
    return True


def remove_stale_temporaries(path: Path) -> list[Path]:
    """Remove the temporary files a killed run left beside ``path`` (named by
    :func:`temporary_beside` with the process id of a process that is gone); return them.

    Only on POSIX systems, where a process can be looked up without touching it."""
    if os.name != "posix":
        return []
    head = f".{path.name}."
    removed = []
    try:
        candidates = list(path.parent.glob(glob.escape(head) + "*.tmp"))
    except OSError:
        return []
    for candidate in candidates:
        match = _TEMPORARY.fullmatch(candidate.name[len(head) - 1 :])
        if match is None:
            continue
        pid = int(match.group(1))
        if pid == os.getpid() or _alive(pid):
            continue
        try:
            candidate.unlink()
        except OSError:
            continue
        removed.append(candidate)
    return removed


def temporary_beside(path: Path, mode: int = 0o600) -> tuple[int, Path]:
    """A new file beside ``path`` to write and then rename over it: its descriptor and
    name, ``.NAME.PID-RANDOM.tmp``. Temporary files of killed runs to the same path are
    removed first (:func:`remove_stale_temporaries`)."""
    remove_stale_temporaries(path)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    flags |= getattr(os, "O_BINARY", 0)
    while True:
        temporary = path.with_name(f".{path.name}.{os.getpid()}-{secrets.token_hex(6)}.tmp")
        try:
            return os.open(temporary, flags, mode), temporary
        except FileExistsError:  # pragma: no cover - 48 random bits collided
            continue


def write_whole(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path``, whole or not at all (a temporary file, then a rename)."""
    target = Path(path)
    # Opened like any new file (so the umask decides its mode), under a name no one else
    # uses, then renamed over the target: readers see the old file or the new one.
    # A killed run's temporary file beside the target is removed first.
    try:
        handle, temporary = temporary_beside(target, 0o666)
    except OSError as error:
        error.filename = str(target)  # the file asked for, not the temporary one
        raise
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.replace(temporary, target)
    except BaseException as error:
        temporary.unlink(missing_ok=True)
        if isinstance(error, OSError):
            error.filename = str(target)
        raise
