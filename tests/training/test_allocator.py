"""A training process keeps the memory it frees, so a step does not fault its activations' pages in again."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from jsontune.recipe import load_recipe
from jsontune.training.allocator import with_kept_memory
from jsontune.training.train import build_trainer


def _rounds(setup: str, tensors: int, elements: int, warmup: int, measured: int) -> str:
    """A child's script: after `setup`, rounds of `tensors` float32 tensors of `elements` written and freed; it
    prints the page faults of the `measured` rounds after `warmup` ones (those a steady training loop would pay
    every step)."""
    return f"""
import resource, torch
{setup}
def one_round():
    tensors = [torch.empty({elements}).fill_(1.0) for _ in range({tensors})]
    del tensors
for _ in range({warmup}):
    one_round()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range({measured}):
    one_round()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def _page_faults(script: str, *args: str, env: dict[str, str] | None = None) -> int:
    done = subprocess.run([sys.executable, "-c", script, *args], env=env, capture_output=True, text=True, check=True)
    return int(done.stdout.strip())


# Steps' worth of activations: ten 4 MiB tensors a round. glibc adapts its thresholds as blocks are freed, and
# whether this pattern ends up kept varies from process to process, so both processes first fix glibc's starting
# values (mmap and trim thresholds of 128 KiB): without keep_freed_memory taking over, every round faults its pages
# in again.
SMALL_ROUNDS = _rounds("""
import ctypes, sys
from jsontune.training.allocator import M_MMAP_THRESHOLD, M_TRIM_THRESHOLD, keep_freed_memory
libc = ctypes.CDLL("libc.so.6")
assert libc.mallopt(M_MMAP_THRESHOLD, 128 * 1024) == 1 and libc.mallopt(M_TRIM_THRESHOLD, 128 * 1024) == 1
if sys.argv[1] == "kept" and not keep_freed_memory():
    sys.exit("glibc refused the settings")
""", tensors=10, elements=1 << 20, warmup=5, measured=20)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt is Linux's")
def test_freed_tensors_are_reused_without_page_faults_once_the_allocator_keeps_freed_memory():
    default, kept = _page_faults(SMALL_ROUNDS, "default"), _page_faults(SMALL_ROUNDS, "kept")
    # 20 rounds of 40 MiB are 204,800 pages of 4 KiB when every round faults them in again.
    assert default > 100_000 and kept * 20 < default, (default, kept)


# Two 64 MiB tensors a round, above the largest block mallopt can keep: glibc maps each on its own and unmaps it
# when it is freed, whatever keep_freed_memory set. Kept in the heap, the blocks find their places within the
# first eight rounds (5 to 8 in 8 processes here) and fault nothing after.
LARGE_ROUNDS = _rounds("", tensors=2, elements=16 << 20, warmup=12, measured=10)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's tunables are Linux's")
def test_a_child_given_kept_memory_reuses_blocks_too_large_for_mallopt_and_overrides_the_callers_tunables():
    callers = {**os.environ, "GLIBC_TUNABLES": "glibc.malloc.mmap_max=65536"}
    default, kept = _page_faults(LARGE_ROUNDS, env=callers), _page_faults(LARGE_ROUNDS, env=with_kept_memory(callers))
    assert with_kept_memory(callers)["GLIBC_TUNABLES"].startswith("glibc.malloc.mmap_max=65536:")
    # 10 rounds of 128 MiB are 327,680 pages of 4 KiB when every round faults them in again.
    assert default > 300_000 and kept * 20 < default, (default, kept)


def test_building_a_trainer_keeps_freed_memory(make_recipe, monkeypatch):
    import jsontune.training.train as train_module

    calls = []
    monkeypatch.setattr(train_module, "keep_freed_memory", lambda: calls.append(True) or True)
    build_trainer(load_recipe(make_recipe()))
    assert calls == [True]
