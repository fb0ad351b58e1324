"""Process, port, file-lock and package helpers shared by the stack's servers."""

from __future__ import annotations

import errno
import fcntl
import os
import resource
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path

from c360.errors import ServerUnavailableError

Report = Callable[[str], None]


def quiet(_message: str) -> None:
    """The default reporter: library calls print nothing unless asked to."""


def is_root() -> bool:
    return os.geteuid() == 0


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    """Whether something already listens on `host:port` (a bind test, not a connect).

    Binding is the test the server itself will face; SO_REUSEADDR matches what
    servers set, so a socket lingering in TIME_WAIT does not count as taken.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            if error.errno in (errno.EADDRINUSE, errno.EACCES):
                return True
            raise
    return False


def require_free_port(port: int, what: str, env_var: str) -> None:
    if port_in_use(port):
        raise ServerUnavailableError(
            f"{what} port {port} on 127.0.0.1 is already in use by another process: "
            f"stop that process or set {env_var} to a free port"
        )


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        # The process exists but belongs to another user (postgres when we are not).
        return True
    # A zombie child of ours still answers kill(0); it is not a running server.
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state != "Z"


def read_pid(pid_file: Path) -> int | None:
    """The pid on the first line of `pid_file` when that process is alive."""
    try:
        first = pid_file.read_text().splitlines()[0].strip()
    except (OSError, IndexError):
        return None
    if not first.isdigit():
        return None
    pid = int(first)
    return pid if pid_alive(pid) else None


def tail(path: Path, lines: int = 15) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return f"(no log at {path})"
    return "\n".join(text.splitlines()[-lines:])


def run(
    args: Sequence[str | os.PathLike[str]],
    *,
    env: Mapping[str, str] | None = None,
    timeout: float | None = None,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run a command to completion, capturing its output; never raises on exit status.

    The command runs in a session of its own and, if this process is interrupted
    (Ctrl-C, SIGTERM) or the timeout passes, its whole process group is ended:
    tools such as neo4j-admin start a second JVM that would otherwise outlive us
    and keep writing a store.
    """
    command = [os.fspath(a) for a in args]
    with subprocess.Popen(
        command,
        env=dict(env) if env is not None else None,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    ) as process:
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            end_process_group(process)
            raise ServerUnavailableError(
                f"`{' '.join(command[:4])} ...` did not finish within {timeout:.0f}s"
            ) from None
        except BaseException:
            end_process_group(process)
            raise
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


def end_process_group(process: subprocess.Popen[str], grace: float = 10.0) -> None:
    """SIGTERM the process's group, SIGKILL what is left, and return once it is gone.

    The leader gets `grace` seconds to exit on SIGTERM; its children then get SIGKILL
    whether or not they ignored SIGTERM. Returning only when no member is left matters
    to the caller: a JVM dying from SIGKILL still holds the store's files for a while.
    """
    group = process.pid
    with suppress(ProcessLookupError):
        os.killpg(group, signal.SIGTERM)
    with suppress(subprocess.TimeoutExpired):
        process.wait(timeout=grace)
    with suppress(ProcessLookupError):
        os.killpg(group, signal.SIGKILL)
    process.wait()
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)


def raise_open_files_limit(wanted: int = 40_000) -> None:
    """Let a child process (Neo4j) open `wanted` files where the limits allow.

    Neo4j recommends 40000; root may raise the hard limit, others up to it.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= wanted:
        return
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, max(hard, wanted)))
    except (ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def output_of(result: subprocess.CompletedProcess[str], lines: int = 20) -> str:
    text = (result.stdout or "") + (result.stderr or "")
    # Java stack frames bury the one line that says what went wrong.
    kept = [line for line in text.strip().splitlines() if not line.lstrip().startswith("at ")]
    return "\n".join(kept[-lines:])


def apt_install(packages: Sequence[str], why: str, report: Report) -> None:
    """Install Debian packages when we may; otherwise say exactly what to install."""
    if not is_root() or shutil.which("apt-get") is None:
        raise ServerUnavailableError(
            f"{why}: install the Debian package(s) {' '.join(packages)} "
            f"(as root: apt-get install {' '.join(packages)}, "
            "or run scripts/install-system-deps.sh)"
        )
    report(f"installing {' '.join(packages)} with apt-get")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for args in (
        ["apt-get", "update", "-q"],
        ["apt-get", "install", "-y", "-q", "--no-install-recommends", *packages],
    ):
        result = run(args, env=env, timeout=1800)
        if result.returncode != 0:
            raise ServerUnavailableError(f"{why}: `{' '.join(args)}` failed:\n{output_of(result)}")


@contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Serialise `up`/`down` between processes (parallel test sessions, two shells)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def wait_for(
    ready: Callable[[], bool],
    *,
    timeout: float,
    interval: float = 0.5,
) -> bool:
    """Poll `ready` until it returns True or `timeout` seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        if ready():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)
