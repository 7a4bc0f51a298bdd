"""bitsandbytes' Hub kernel is never fetched; its warning stays out of runs without 4-bit layers, and is one plain
line with them."""

from __future__ import annotations

import logging
import subprocess
import sys

import pytest

import jsontune  # noqa: F401 - importing jsontune installs the filter
from jsontune.models import bnb_hub_kernel

# What bitsandbytes 0.50 logs on an AVX512-BF16 CPU when the Hub kernel cannot be fetched (its own words).
BNB_WARNING = ("Failed to load CPU gemm_4bit_forward from kernels-community: %s. Please make sure you already "
               "`pip install kernels` and the kernels >= 0.11.1")


def test_the_hub_kernel_warning_never_reaches_the_log(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("bitsandbytes.backends.cpu.ops").warning(
            BNB_WARNING, "could not verify publisher trust status. Set trust_remote_code=True")
        logging.getLogger("bitsandbytes.backends.cpu.ops").warning("another bitsandbytes warning")
    assert [r.getMessage() for r in caplog.records] == ["another bitsandbytes warning"]
    assert bnb_hub_kernel.hub_kernel_failed()


def test_a_4bit_run_is_told_in_one_line_what_the_missing_kernel_means(caplog: pytest.LogCaptureFixture) -> None:
    logging.getLogger("bitsandbytes.backends.cpu.ops").warning(BNB_WARNING, "no network")
    with caplog.at_level(logging.INFO):
        bnb_hub_kernel.explain_4bit_kernel()
    (line,) = [r.getMessage() for r in caplog.records]
    assert "built-in CPU kernels" in line and "trust_remote_code" not in line and "\n" not in line


def test_importing_jsontune_then_bitsandbytes_prints_no_kernel_warning() -> None:
    # peft and transformers import bitsandbytes whenever it is installed; on an AVX512-BF16 CPU that import
    # is what logs the warning.
    done = subprocess.run([sys.executable, "-c", "import logging; logging.basicConfig(); import jsontune; "
                           "import bitsandbytes"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "kernels-community" not in done.stderr + done.stdout


def test_importing_bitsandbytes_asks_the_hub_nothing_even_where_the_hub_never_answers(silent_endpoint) -> None:
    # Before jsontune refused the kernel, this import waited on the endpoint for over 600 s.
    import os

    env = {**os.environ, "HF_ENDPOINT": silent_endpoint}
    env.pop("HF_HUB_OFFLINE", None)
    done = subprocess.run([sys.executable, "-c", "import jsontune, bitsandbytes"], env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def test_only_the_bitsandbytes_kernel_is_refused(monkeypatch) -> None:
    kernels = pytest.importorskip("kernels")  # a dependency of transformers: present wherever jsontune is
    asked = []
    monkeypatch.setattr(kernels, "get_kernel", lambda repo_id, **kwargs: asked.append(repo_id) or "kernel")
    bnb_hub_kernel.refuse_hub_kernel()
    bnb_hub_kernel.refuse_hub_kernel()  # idempotent: wrapped once

    with pytest.raises(bnb_hub_kernel.HubKernelRefused, match="does not fetch"):
        kernels.get_kernel(bnb_hub_kernel.BNB_KERNEL_REPO, version=1)
    assert kernels.get_kernel("someone/another-kernel") == "kernel" and asked == ["someone/another-kernel"]
