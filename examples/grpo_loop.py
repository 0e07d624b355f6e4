"""The loop an RL trainer (GRPO) runs against Anvil, minus the gradient step.

Each iteration serves a new checkpoint behind an OpenAI-compatible endpoint (vLLM, say), points a
rollout batch at it, collects a group of episodes per task, computes group-relative advantages,
and logs the mean reward. A real trainer would then take a policy-gradient step on the exported
transcripts (`anvil export rollout <id>`: token ids and log-probs per assistant turn) and serve
the next checkpoint.

    pip install -e clients/python
    python examples/grpo_loop.py --anvil http://localhost:8080 --task iris-species \\
        --checkpoint http://vllm-0:8000/v1 --checkpoint http://vllm-1:8000/v1 --samples 4

Prints one JSON line per iteration: {"iteration", "checkpoint", "rollout", "mean_reward", "advantages"}.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from typing import Dict, List

from anvil_client import Anvil, OpenAIPolicy, RolloutResult


def advantages(result: RolloutResult) -> Dict[str, List[float]]:
    """GRPO's group-relative advantages, (r - mean) / (std + eps) per task, computed here from rewards."""
    out: Dict[str, List[float]] = {}
    for task in sorted({e.task for e in result.episodes}):
        rewards = [e.reward for e in sorted(result.episodes, key=lambda e: e.sample) if e.task == task]
        mean, std = statistics.fmean(rewards), statistics.pstdev(rewards)
        out[task] = [(r - mean) / (std + 1e-6) for r in rewards]
    return out


def main(argv: List[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--anvil", required=True, help="the gateway's address")
    parser.add_argument("--task", action="append", required=True)
    parser.add_argument("--checkpoint", action="append", required=True, help="one endpoint per iteration")
    parser.add_argument("--model", default="policy")
    parser.add_argument("--samples", type=int, default=4)
    parser.add_argument("--max-steps", type=int, default=6)
    parser.add_argument("--reward-mode", default="raw")
    parser.add_argument("--temperature", type=float, default=1.0)
    args = parser.parse_args(argv)

    anvil = Anvil(args.anvil, timeout=120)
    for iteration, endpoint in enumerate(args.checkpoint):
        policy = OpenAIPolicy(base_url=endpoint, model=args.model, temperature=args.temperature, logprobs=True)
        result = anvil.rollout(
            args.task, policy, args.samples, max_steps=args.max_steps, reward_mode=args.reward_mode, poll_s=0.5
        )
        ours = advantages(result)
        # Anvil computes the same statistics; a trainer may use either.
        for group in result.groups:
            assert all(abs(a - b) < 1e-6 for a, b in zip(ours[group.task], group.advantages)), group.task
        print(
            json.dumps(
                {
                    "iteration": iteration,
                    "checkpoint": endpoint,
                    "rollout": result.workflowId,
                    "mean_reward": result.mean_reward,
                    "advantages": ours,
                }
            ),
            flush=True,
        )
        # <- the policy-gradient step on this batch's transcripts goes here; then serve the next checkpoint.
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
