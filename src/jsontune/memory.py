"""Memory: the peak of a phase of work (max allocated on a GPU, else the process's resident set size), and
what is free for new tensors (`available_memory_bytes`, which sizes the decoding engine's cache).

On Linux the RSS high-water mark can be reset (`/proc/self/clear_refs`), so one process can measure
several phases (e.g. evaluating three models one after another) each on its own. Elsewhere the
figure is the process's lifetime peak, and says so in its kind.
"""

from __future__ import annotations

import re
import resource
import sys
from pathlib import Path

import torch

_STATUS = Path("/proc/self/status")
_CLEAR_REFS = Path("/proc/self/clear_refs")


def reset_peak_memory() -> None:
    """Start a new measurement: later peaks count from the memory in use now."""
    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()
        return
    try:
        _CLEAR_REFS.write_text("5")  # "5" resets VmHWM to the current RSS (Linux >= 4.0)
    except OSError:
        pass


def peak_memory_mb() -> tuple[float, str]:
    """(peak in MiB, kind): "cuda_max_allocated", "rss_peak" (since the last reset) or "process_max_rss"."""
    if torch.cuda.is_available():
        return torch.cuda.max_memory_allocated() / 2**20, "cuda_max_allocated"
    try:
        match = re.search(r"VmHWM:\s+(\d+) kB", _STATUS.read_text())
    except OSError:
        match = None
    if match:
        return int(match.group(1)) / 1024, "rss_peak"
    scale = 1 if sys.platform == "darwin" else 1024  # ru_maxrss: bytes on macOS, KiB on Linux
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 2**20, "process_max_rss"


def available_memory_bytes(device: torch.device) -> int:
    """Memory free for new tensors on `device`: free GPU memory, or the machine's available RAM."""
    if device.type == "cuda":  # what the driver has free, and what PyTorch holds in its cache but does not use
        return (torch.cuda.mem_get_info(device)[0] + torch.cuda.memory_reserved(device)
                - torch.cuda.memory_allocated(device))
    import psutil

    return psutil.virtual_memory().available
