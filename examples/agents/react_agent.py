"""A minimal ReAct agent of its own, outside Anvil: any OpenAI-compatible model plays a Dojo task
over HTTP, with the five environment actions as tools (built from the gateway's OpenAPI document).
It shows that any agent framework can play Anvil without Anvil's built-in policy.

    pip install -e clients/python
    python examples/agents/react_agent.py --anvil http://localhost:8080 --task iris-species \\
        --model-url http://localhost:8000/v1 --model Qwen/Qwen2.5-7B-Instruct --steps 10

Prints each step as a JSON line and, last, {"envId", "steps", "bestReward"}.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.request
import uuid
from typing import Any, Dict, List

from anvil_client import Anvil

SYSTEM = (
    "You are a machine-learning engineer solving a competition-style task in a sandbox. Think step by "
    "step in a sentence, then call exactly one tool. Public data is under /data; write predictions to "
    "/workspace/submission.csv. Reply without a tool call when you are done."
)


def tools_from_openapi(doc: Dict[str, Any]) -> List[Dict[str, Any]]:
    """The gateway's Action variants as OpenAI tools: one function per action, its params as parameters."""
    tools = []
    for variant in doc["components"]["schemas"]["Action"]["oneOf"]:
        name = variant["properties"]["action"]["const"]
        params = dict(variant["properties"].get("params", {"type": "object", "properties": {}}))
        params.pop("$schema", None)
        tools.append({"type": "function", "function": {"name": name, "parameters": params}})
    return tools


def chat(url: str, model: str, messages: List[Dict[str, Any]], tools: List[Dict[str, Any]]) -> Dict[str, Any]:
    request = urllib.request.Request(
        url.rstrip("/") + "/chat/completions",
        data=json.dumps({"model": model, "messages": messages, "tools": tools}).encode(),
        headers={"content-type": "application/json", "authorization": f"Bearer {os.environ.get('OPENAI_API_KEY', 'none')}"},
    )
    with urllib.request.urlopen(request, timeout=300) as response:
        return json.loads(response.read())["choices"][0]["message"]


def main(argv: List[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--anvil", required=True)
    parser.add_argument("--task", required=True)
    parser.add_argument("--model-url", required=True)
    parser.add_argument("--model", default="default")
    parser.add_argument("--steps", type=int, default=10)
    args = parser.parse_args(argv)

    anvil = Anvil(args.anvil, timeout=300)
    tools = tools_from_openapi(anvil.openapi())
    env_id, opening = anvil.envs.open(args.task, steps=args.steps)
    opening_facts = {"message": opening.message, "info": opening.info, "budget": vars(opening.budget)}
    messages: List[Dict[str, Any]] = [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": f"Task {args.task}. Opening observation: {json.dumps(opening_facts)}"},
    ]
    best, done, step = 0.0, opening.done, 0
    while not done:
        reply = chat(args.model_url, args.model, messages, tools)
        calls = reply.get("tool_calls") or []
        messages.append({"role": "assistant", "content": reply.get("content"), **({"tool_calls": calls[:1]} if calls else {})})
        if not calls:
            break  # the model answered in text: finished
        call = calls[0]
        params = json.loads(call["function"].get("arguments") or "{}")
        result = anvil.envs.step(env_id, call["function"]["name"], params, key=f"react-{uuid.uuid4()}")
        step += 1
        best = max(best, result.reward)
        done = result.done
        observation = {k: v for k, v in vars(result.observation).items() if v is not None and k not in ("budget", "extra")}
        observation["budget"] = vars(result.observation.budget)
        print(json.dumps({"step": step, "action": call["function"]["name"], "status": result.observation.status, "reward": result.reward}), flush=True)
        messages.append({"role": "tool", "tool_call_id": call["id"], "content": json.dumps(observation)})
    anvil.envs.close(env_id)
    print(json.dumps({"envId": env_id, "steps": step, "bestReward": best}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
