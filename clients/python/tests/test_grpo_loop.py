"""examples/grpo_loop.py against checkpoints that get better: the logged mean reward must rise."""

import json
import os
import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "grpo_loop.py"


def test_the_grpo_loop_logs_a_rising_mean_reward(anvil_url, task):
    checkpoints = os.environ["ANVIL_CHECKPOINTS"].split(",")
    args = [sys.executable, str(EXAMPLE), "--anvil", anvil_url, "--task", task, "--samples", "3", "--max-steps", "4"]
    for checkpoint in checkpoints:
        args += ["--checkpoint", checkpoint]
    done = subprocess.run(args, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr
    logged = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert [entry["checkpoint"] for entry in logged] == checkpoints
    rewards = [entry["mean_reward"] for entry in logged]
    print("mean reward per iteration:", rewards)
    assert all(later > earlier for earlier, later in zip(rewards, rewards[1:])), rewards
    for entry in logged:
        assert abs(sum(entry["advantages"][task])) < 1e-6
