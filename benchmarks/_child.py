"""Run ``landaulab`` in a fresh process and read that process's own peak memory.

``wait4``'s ``ru_maxrss`` of a child counts the parent's resident memory at fork (Linux
keeps the pre-``exec`` high-water mark), so a benchmark that generated data first would
charge its own memory to the command it measures. The child reports ``VmHWM`` from
``/proc/self/status`` (the peak of its own address space) instead, with its wall time
from just before ``landaulab`` is imported to its exit.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass

RUN = """
import resource, runpy, sys, time

def peak_kib():  # this program's own peak (ru_maxrss would count the parent's, from fork)
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

sys.argv = ["landaulab", *sys.argv[1:]]
start = time.perf_counter()
try:
    runpy.run_module("landaulab", run_name="__main__")
except SystemExit as exit:
    if exit.code:
        raise
finally:
    print(f"BENCH {time.perf_counter() - start:.3f} {peak_kib()}", file=sys.stderr)
"""


@dataclass(frozen=True)
class ChildRun:
    """What one ``landaulab`` process did: exit status, seconds, peak MiB and output."""

    returncode: int
    seconds: float
    peak_mib: float
    stdout: str
    last_error: str


def run_cli(*args: str) -> ChildRun:
    """Run ``landaulab ARGS`` in a fresh process."""
    done = subprocess.run(
        [sys.executable, "-c", RUN, *args], capture_output=True, text=True, check=False
    )
    lines = [line for line in done.stderr.splitlines() if line.startswith("BENCH ")]
    errors = [line for line in done.stderr.strip().splitlines() if not line.startswith("BENCH ")]
    if not lines:
        return ChildRun(done.returncode or 1, float("nan"), float("nan"), done.stdout, "no output")
    _, seconds, peak = lines[-1].split()
    return ChildRun(
        done.returncode,
        float(seconds),
        int(peak) / 1024,
        done.stdout,
        errors[-1] if errors else "",
    )
