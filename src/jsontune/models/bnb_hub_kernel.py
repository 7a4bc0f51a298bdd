"""bitsandbytes' optional CPU 4-bit kernel from the Hub: no warning for a run that never uses 4-bit layers.

On a CPU with AVX512-BF16, `import bitsandbytes` (which peft and transformers do whenever it is installed)
tries to fetch a faster 4-bit matmul from the Hub's `kernels-community` and, when that fails (no network, or
a publisher it cannot verify), logs a warning that suggests `trust_remote_code=True`. Every jsontune process
imports bitsandbytes, almost none uses 4-bit layers, and jsontune never tells a user to run remote code. So:

- `hide_hub_kernel_warning()` (installed when `jsontune` is imported, before anything imports bitsandbytes)
  drops that one record from bitsandbytes' logger and remembers that it was dropped.
- `explain_4bit_kernel()` is called where 4-bit layers are made (a recipe with `load_in_4bit`); when the
  fetch failed it says in one line what that means: the 4-bit layers run on bitsandbytes' built-in CPU code.
"""

from __future__ import annotations

import logging

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


def hub_kernel_failed() -> bool:
    """Whether bitsandbytes tried the Hub kernel in this process and did not get it."""
    return _FILTER.hidden > 0


def explain_4bit_kernel() -> None:
    """One line for a run that makes 4-bit layers, when bitsandbytes fell back to its built-in CPU code."""
    if hub_kernel_failed():
        logger.info(FALLBACK_NOTE)
