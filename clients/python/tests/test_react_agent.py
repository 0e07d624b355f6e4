"""examples/agents/react_agent.py plays a whole episode over HTTP with an outside model."""

import json
import os
import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "agents" / "react_agent.py"


def test_the_react_agent_plays_an_episode_to_a_scored_submission(anvil_url, task):
    args = [sys.executable, str(EXAMPLE), "--anvil", anvil_url, "--task", task, "--steps", "5",
            "--model-url", os.environ["ANVIL_REACT_LLM"], "--model", "react"]
    done = subprocess.run(args, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert [line["action"] for line in lines[:-1]] == ["request_info", "validate_code", "execute_code"]
    assert all(line["status"] == "ok" for line in lines[:-1])
    assert lines[-1]["steps"] == 3
