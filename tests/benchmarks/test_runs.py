"""Training in a process of its own: a benchmark that is stopped does not leave its training running."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path


def _alive(pid: int) -> bool:
    """Whether the process runs (a zombie, waiting to be reaped, does not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")


def _wait_for(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def test_a_benchmark_stopped_with_sigterm_kills_the_training_it_started(tmp_path):
    pid_file = tmp_path / "child.pid"
    child = f"import os, time; open({str(pid_file)!r}, 'w').write(str(os.getpid())); time.sleep(300)"
    parent = subprocess.Popen([sys.executable, "-c", "import sys; from jsontune.benchmarks.runs import run_child; "
                               f"sys.exit(run_child([sys.executable, '-c', {child!r}]))"])
    child_pid = None
    try:
        assert _wait_for(lambda: pid_file.is_file() and pid_file.read_text(), 120), "the child never started"
        child_pid = int(pid_file.read_text())
        parent.send_signal(signal.SIGTERM)
        assert parent.wait(timeout=60) == 128 + signal.SIGTERM
        assert _wait_for(lambda: not _alive(child_pid), 30), "the training child outlived the benchmark"
    finally:
        parent.kill()
        if child_pid is not None and _alive(child_pid):
            os.kill(child_pid, signal.SIGKILL)


def test_run_child_returns_the_exit_code_of_the_training():
    from jsontune.benchmarks.runs import run_child

    assert run_child([sys.executable, "-c", "import sys; sys.exit(3)"]) == 3
    assert run_child([sys.executable, "-c", "pass"]) == 0
