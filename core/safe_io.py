"""How the hooks touch files: read only regular files, a bounded number of bytes; write only
regular files this user owns, atomically, private to the user (0600 in folders of 0700).

A path a hook is given (TOKEN_ROI_BUDGET_FILE, a payload's transcript_path) may name anything:
a device, a FIFO, /dev/zero, a symlink planted beside a lock. Reading one must not block or
grow without end; writing must never rename a device, FIFO or folder aside. A symlink is followed
to its target, which is then held to the same rules. Every refusal is an OSError naming the path:
the hook logs it and goes on. Standard library only (the hooks' live path).

A light building block beside record.py and cursor.py rather than inside guard/: the ledger,
the caches and the JSONL reader use its private and regular-file openers too, and guard/
already imports those (a module in guard/ would make a cycle of them).
"""

from __future__ import annotations

import errno
import os
import stat

READ_LIMIT = 16 << 20        # bytes of a state or sidecar file (a session's state is ~10-100 KB)
TRANSCRIPT_LIMIT = 64 << 20  # transcript bytes one hook reads per file; the next hook goes on from there

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)


def _refuse(path, why: str) -> OSError:
    return OSError(errno.EINVAL, why, os.fspath(path))


def opener(path, flags: int) -> int:
    """For open(path, mode, opener=opener): the file opened without blocking (a FIFO with no
    writer, a terminal) and kept only when it is a regular file."""
    return _regular(os.open(path, flags | _NONBLOCK | _CLOEXEC), path, "not a regular file: not read")


def _regular(fd: int, path, refusal: str) -> int:
    """`fd` when it is a regular file; else it is closed and OSError(`refusal`) raised."""
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise _refuse(path, refusal)
    except BaseException:
        os.close(fd)
        raise
    return fd


def read_regular(path, limit: int = READ_LIMIT) -> bytes:
    """The bytes of a regular file of at most `limit` bytes; OSError for anything else
    (FileNotFoundError when there is none)."""
    with open(path, "rb", opener=opener) as f:
        data = f.read(limit + 1)
    if data is None or len(data) > limit:
        raise OSError(errno.EFBIG, f"larger than {limit} bytes: not read", os.fspath(path))
    return data


def target(path) -> str:
    """The file a write to `path` replaces: a symlink followed to its end. OSError when that is
    not a regular file (a device, a FIFO, a folder) or not this user's."""
    real = os.path.realpath(path)
    try:
        st = os.lstat(real)
    except FileNotFoundError:
        return real
    if not stat.S_ISREG(st.st_mode):
        raise _refuse(path, "not a regular file: not replaced")
    if hasattr(os, "geteuid") and st.st_uid != os.geteuid():
        raise OSError(errno.EPERM, "owned by another user: not replaced", os.fspath(path))
    return real


def private_dir(folder: str) -> None:
    """Create `folder` (and its parents) as 0700; an existing one of ours is tightened to 0700."""
    os.makedirs(folder, mode=0o700, exist_ok=True)
    tighten(folder, 0o700)


def tighten(path, mode: int = 0o600) -> None:
    """chmod `path` to `mode` when it is this user's and looser (never follows a symlink)."""
    try:
        st = os.lstat(path)
        if (stat.S_ISREG(st.st_mode) or stat.S_ISDIR(st.st_mode)) and st.st_mode & 0o077 \
                and (not hasattr(os, "geteuid") or st.st_uid == os.geteuid()):
            os.chmod(path, mode)
    except OSError:
        pass


def write_atomic(path, data: bytes | str) -> None:
    """Replace the regular file at `path` (or its symlink's target) by `data` at once: readers see
    the old bytes or the new, never a mix. The file is created 0600."""
    real = target(path)
    if isinstance(data, str):
        data = data.encode("utf-8")
    tmp = os.path.join(os.path.dirname(real), f".{os.path.basename(real)}.{os.getpid()}.tmp")
    try:
        os.unlink(tmp)               # (a leftover of a killed hook, or whatever was planted there)
    except OSError:
        pass
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC, 0o600)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
        finally:
            os.close(fd)
        os.replace(tmp, real)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def append_private(path, text: str) -> None:
    """Append `text` to a regular file (created 0600); O_APPEND keeps concurrent lines whole."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | _NONBLOCK | _CLOEXEC, 0o600)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise _refuse(path, "not a regular file: not written")
        if st.st_mode & 0o077:
            tighten(path)
        os.write(fd, text.encode("utf-8", "replace"))
    finally:
        os.close(fd)


def open_lock(path) -> int:
    """A lock file's descriptor: created 0600, never through a symlink (a planted link must not
    create files elsewhere), never a device or FIFO."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | _NOFOLLOW | _NONBLOCK | _CLOEXEC, 0o600)
    return _regular(fd, path, "not a regular file: not used as a lock")


def private(path, flags: int) -> int:
    """For open(path, mode, opener=private): a file of ours created 0600 (a cache, a log)."""
    return os.open(path, flags | _CLOEXEC, 0o600)
