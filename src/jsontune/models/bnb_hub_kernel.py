"""bitsandbytes' optional CPU 4-bit kernel from the Hub: never fetched, and no warning for a run without 4-bit layers.

On a CPU with AVX512-BF16, `import bitsandbytes` (which peft and transformers do whenever it is installed)
asks the `kernels` package for a faster 4-bit matmul from the Hub's `kernels-community`: a download of code at
import time, in every process, whether or not 4-bit layers are used. jsontune downloads nothing from a hub at
run time, and that request is also what made every start print a warning that suggests
`trust_remote_code=True` (when it fails), or hang (behind a network that drops packets, or an HF_ENDPOINT that
never answers: measured over 600 s). So, when `jsontune` is imported, before anything imports bitsandbytes:

- `refuse_hub_kernel()` makes `kernels.get_kernel` refuse that one repository at once, without a network call;
  bitsandbytes then falls back to its built-in CPU code, as it does when the fetch fails.
- `hide_hub_kernel_warning()` drops the warning bitsandbytes logs for the fallback, and remembers it.
- `explain_4bit_kernel()` is called where 4-bit layers are made (a recipe with `load_in_4bit`); when
  bitsandbytes fell back it says in one line what that means.
"""

from __future__ import annotations

import logging

BNB_KERNEL_REPO = "kernels-community/quantization-bitsandbytes"
BNB_CPU_LOGGER = "bitsandbytes.backends.cpu.ops"
HUB_KERNEL_FAILURE = "Failed to load CPU gemm_4bit_forward from kernels-community"
FALLBACK_NOTE = ("4-bit layers run on bitsandbytes' built-in CPU kernels: its optional faster kernel comes from "
                 "the Hub (kernels-community), which jsontune does not fetch")

logger = logging.getLogger(__name__)


class _HubKernelFailureFilter(logging.Filter):
    """Drops bitsandbytes' Hub-kernel warning and records that it was raised."""

    def __init__(self) -> None:
        super().__init__()
        self.hidden = 0

    def filter(self, record: logging.LogRecord) -> bool:
        if str(record.msg).startswith(HUB_KERNEL_FAILURE):
            self.hidden += 1
            return False
        return True


_FILTER = _HubKernelFailureFilter()


def hide_hub_kernel_warning() -> None:
    """Install the filter on bitsandbytes' CPU logger (idempotent; costs no import of bitsandbytes)."""
    bnb_logger = logging.getLogger(BNB_CPU_LOGGER)
    if _FILTER not in bnb_logger.filters:
        bnb_logger.addFilter(_FILTER)


class HubKernelRefused(RuntimeError):
    """What `kernels.get_kernel` raises for bitsandbytes' kernel under jsontune."""


def refuse_hub_kernel() -> None:
    """Wrap `kernels.get_kernel` so that bitsandbytes' Hub kernel is refused without a network call (idempotent;
    other kernels are left to `kernels`). Without the `kernels` package there is nothing to refuse."""
    try:
        import kernels
    except ImportError:
        return
    fetch = kernels.get_kernel
    if getattr(fetch, "refuses", None) == BNB_KERNEL_REPO:
        return

    def get_kernel(repo_id: str, *args, **kwargs):
        if repo_id == BNB_KERNEL_REPO:
            raise HubKernelRefused(f"{repo_id}: jsontune does not fetch code from the Hub")
        return fetch(repo_id, *args, **kwargs)

    get_kernel.refuses = BNB_KERNEL_REPO
    kernels.get_kernel = get_kernel


def hub_kernel_failed() -> bool:
    """Whether bitsandbytes tried the Hub kernel in this process and did not get it."""
    return _FILTER.hidden > 0


def explain_4bit_kernel() -> None:
    """One line for a run that makes 4-bit layers, when bitsandbytes fell back to its built-in CPU code."""
    if hub_kernel_failed():
        logger.info(FALLBACK_NOTE)
