"""scripts/slurm/sft.slurm, run with stand-ins for srun, scontrol and accelerate: the launch it builds."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests import REPO

SCRIPT = REPO / "scripts/slurm/sft.slurm"


def _stand_ins(tmp_path: Path) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    scripts = {
        # srun: run the command once per node, as Slurm would, with that node's rank.
        "srun": 'while [[ $1 == --* ]]; do shift; done\n'
                'for ((rank = 0; rank < SLURM_NNODES; rank++)); do SLURM_PROCID=$rank "$@" || exit $?; done',
        "scontrol": 'printf "gpu-node-07\\ngpu-node-08\\n"',
        "accelerate": 'printf "%s\\n" "$*" >> "$LAUNCHES"',
    }
    for name, body in scripts.items():
        (bin_dir / name).write_text(f"#!/bin/bash\n{body}\n")
        (bin_dir / name).chmod(0o755)
    return bin_dir


def _run(tmp_path: Path, args: list[str], **env: str) -> subprocess.CompletedProcess:
    launches = tmp_path / "launches.txt"
    environment = {**os.environ, "PATH": f"{_stand_ins(tmp_path)}:{os.environ['PATH']}", "LAUNCHES": str(launches),
                   "JSONTUNE_VENV": str(tmp_path / "no-venv"), **env}
    return subprocess.run(["bash", str(SCRIPT), *args], capture_output=True, text=True, cwd=REPO, env=environment,
                          timeout=60)


def test_each_node_launches_with_the_total_process_count_and_its_rank(tmp_path):
    done = _run(tmp_path, ["recipes/complete.yaml", "accelerate_configs/zero2.yaml", "--num_train_epochs", "2",
                           "--output_dir", "out dir"],
                SLURM_NNODES="2", SLURM_GPUS_ON_NODE="4", SLURM_JOB_NODELIST="gpu-node-[07-08]")
    assert done.returncode == 0, done.stderr
    assert "2 node(s) x 4 GPU(s) = 8 processes; rendezvous gpu-node-07:29500" in done.stdout
    launches = (tmp_path / "launches.txt").read_text().splitlines()
    common = ("launch --config_file accelerate_configs/zero2.yaml --num_machines 2 --num_processes 8 "
              "--machine_rank {} --main_process_ip gpu-node-07 --main_process_port 29500 "
              "scripts/sft.py recipes/complete.yaml --num_train_epochs 2 --output_dir out dir")
    assert launches == [common.format(0), common.format(1)]


def test_the_config_defaults_to_zero3_and_gpus_can_be_set(tmp_path):
    done = _run(tmp_path, ["recipes/lora.yaml", "--max_steps", "5"], SLURM_NNODES="3", GPUS_PER_NODE="2",
                SLURM_JOB_NODELIST="n[1-3]", MAIN_PORT="31000")
    assert done.returncode == 0, done.stderr
    first = (tmp_path / "launches.txt").read_text().splitlines()[0]
    assert "--config_file accelerate_configs/zero3.yaml --num_machines 3 --num_processes 6 --machine_rank 0" in first
    assert first.endswith("--main_process_port 31000 scripts/sft.py recipes/lora.yaml --max_steps 5")


def test_mistakes_are_named_before_anything_launches(tmp_path):
    missing = _run(tmp_path, ["recipes/nope.yaml"], SLURM_NNODES="1", GPUS_PER_NODE="1")
    assert missing.returncode == 2 and "recipes/nope.yaml: no such file" in missing.stderr
    outside = _run(tmp_path, ["recipes/lora.yaml"], GPUS_PER_NODE="1")
    assert outside.returncode != 0 and "not inside a Slurm job" in outside.stderr
    no_gpus = _run(tmp_path, ["recipes/lora.yaml"], SLURM_NNODES="1", GPUS_PER_NODE="0")
    assert no_gpus.returncode == 2 and "set GPUS_PER_NODE" in no_gpus.stderr
    assert not (tmp_path / "launches.txt").exists()
