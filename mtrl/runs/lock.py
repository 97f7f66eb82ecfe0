"""One writer per run directory: an OS file lock (``filelock``) held by ``mtrl train`` and ``mtrl evaluate``.

The lock is ``RUN_DIR/.lock``, an advisory ``flock`` that the kernel drops when its process ends, however it ends
(``kill -9`` included): a lock file left by a dead process never blocks anyone. Who holds the lock is recorded in
``RUN_DIR/.lock.owner`` (pid, host, command) so a refused second writer can say whom it waits for.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from mtrl.errors import RunDirError
from mtrl.runs.layout import LOCK_FILE, OWNER_FILE


def describe_holder(run_dir: Path, attempts: int = 10) -> str:
    """``pid N on HOST (COMMAND)`` of the live holder of ``run_dir``'s lock.

    The record may lag the lock by a moment (the holder writes it just after acquiring; until then it names a
    previous, dead holder or is missing): it is read again for up to ``attempts`` tenths of a second.
    """
    for attempt in range(attempts):
        try:
            owner = json.loads((run_dir / OWNER_FILE).read_text())
            pid, host = int(owner["pid"]), str(owner["host"])
            if host != socket.gethostname() or process_alive(pid):
                return f"pid {pid} on {host} ({owner['command']})"
        except (OSError, ValueError, KeyError, TypeError):
            pass
        if attempt + 1 < attempts:
            time.sleep(0.1)
    return "another process (it has not recorded itself)"


def process_alive(pid: int) -> bool:
    """Whether process ``pid`` on this host runs (a zombie, killed but not yet reaped, does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # Linux: the state field after the parenthesised command name
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


@contextmanager
def run_dir_lock(run_dir: Path, command: str) -> Iterator[None]:
    """Hold ``run_dir``'s lock for the ``with`` block; ``run_dir`` must exist.

    Args:
        run_dir: the run directory.
        command: what holds it (recorded for the error message of a refused second writer), e.g. ``train``.

    Raises:
        RunDirError: another live process holds the lock (the message names the run dir and the holder).
    """
    lock = FileLock(str(run_dir / LOCK_FILE), timeout=0)
    try:
        lock.acquire()
    except Timeout:
        raise RunDirError(f"run directory {run_dir} is in use by {describe_holder(run_dir)}; wait for it to finish "
                          f"or stop it") from None
    try:
        owner = {"pid": os.getpid(), "host": socket.gethostname(), "command": command,
                 "argv": " ".join(sys.argv), "since": time.strftime("%Y-%m-%d %H:%M:%S")}
        (run_dir / OWNER_FILE).write_text(json.dumps(owner) + "\n")
        yield
    finally:
        lock.release()
