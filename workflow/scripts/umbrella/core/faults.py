"""Faults of the machine rather than of the input (a full disk, a folder that cannot be written, a job out of
memory), each told in one sentence that names the cause and the path, instead of a traceback."""

from __future__ import annotations

import errno
import os
from collections.abc import Iterable
from pathlib import Path

#: errno -> what it means for the user, and what to do.
_CAUSES = {
    errno.ENOSPC: ("the disk is full", "free some space"),
    errno.EDQUOT: ("the disk quota is used up", "free some space"),
    errno.EROFS: ("the folder is on a read-only disk", "work in a writable copy of the project"),
    errno.EACCES: ("there is no permission to use it", "give yourself permission to read and write it"),
    errno.EPERM: ("there is no permission to use it", "give yourself permission to read and write it"),
    errno.ENOTDIR: ("a file stands where a folder is expected", "move that file away"),
    errno.EISDIR: ("a folder stands where a file is expected", "move that folder away"),
    errno.EEXIST: ("a file stands where a folder is expected", "move that file away"),
}
#: The faults that only writing meets (a permission may be missing for reading too).
_WRITING = {errno.ENOSPC, errno.EDQUOT, errno.EROFS}


def describe_fault(exc: BaseException, where: str | os.PathLike | None = None) -> str | None:
    """One sentence for a fault of the machine, naming the cause and the path (``exc.filename``, else
    ``where``), or None when ``exc`` is no such fault (a bug, whose traceback is worth keeping)."""
    again = "run the same command again; it continues where this run stopped"
    if isinstance(exc, MemoryError):
        place = f" while making {os.fsdecode(where)}" if where else ""
        return f"The computer ran out of memory{place}. Close other programs (or give the job more memory) and {again}."
    if not isinstance(exc, OSError) or exc.errno not in _CAUSES:
        return None
    cause, remedy = _CAUSES[exc.errno]
    path = exc.filename if exc.filename is not None else where
    verb = "write" if exc.errno in _WRITING else "use"
    place = f"Could not {verb} {os.fsdecode(path)}" if path is not None else f"Could not {verb} an output"
    return f"{place}: {cause}. {remedy[0].upper()}{remedy[1:]} and {again}."


def unwritable(paths: Iterable[str | os.PathLike]) -> str | None:
    """The sentence for the first of ``paths`` (outputs about to be written) whose folder cannot be made or
    written: a file stands where a folder of its path should be, or the nearest existing folder is read-only or
    not writable. None when, as far as can be told before writing, every one can be written. Each folder is
    looked at once, so a few hundred outputs take a few milliseconds."""
    seen: set[Path] = set()
    for path in paths:
        folder = Path(path).parent
        while folder not in seen and folder != folder.parent:
            seen.add(folder)
            if folder.exists() or folder.is_symlink():
                if not folder.is_dir():
                    return describe_fault(NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(folder)))
                if not os.access(folder, os.W_OK | os.X_OK):
                    code = errno.EROFS if _read_only(folder) else errno.EACCES
                    return describe_fault(OSError(code, os.strerror(code), str(folder)))
                break
            folder = folder.parent
    return None


def _read_only(folder: Path) -> bool:
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except (AttributeError, OSError):  # no statvfs (Windows)
        return False
