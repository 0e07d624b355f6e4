"""The `openenv-core` client (PyPI) plays a whole episode through Anvil's OpenEnv facade on a forged task."""

import os

import requests
from openenv.core.generic_client import GenericEnvClient

SUBMIT_SAMPLE = (
    "import pandas as pd\n"
    "pd.read_csv('/data/sample_submission.csv').to_csv('/workspace/submission.csv', index=False)\n"
)


def test_openenv_client_plays_a_whole_episode_on_a_forged_task(anvil_url):
    task = os.environ["ANVIL_FORGED_TASK"]
    # openenv-core sends no headers: the key goes in the facade's path.
    base = f"{anvil_url}/openenv/key={os.environ['ANVIL_API_KEY']}/{task}"
    assert requests.get(f"{base}/health", timeout=10).json() == {"status": "healthy"}
    with GenericEnvClient(base_url=base, message_timeout_s=600).sync() as env:
        result = env.reset(budget={"steps": 3})
        assert result.done is False and result.observation["budget"]["stepsLeft"] == 3
        episode_id = result.observation["episode_id"]
        info = env.step({"action": "request_info", "params": {"kind": "data"}})
        assert info.observation["status"] == "ok" and info.done is False
        valid = env.step({"action": "validate_code", "params": {"code": SUBMIT_SAMPLE}})
        assert valid.observation["submission"]["valid"] is True
        scored = env.step({"action": "execute_code", "params": {"code": SUBMIT_SAMPLE}})
        assert scored.done is True  # the step budget is spent: the episode is over
        assert "score" in scored.observation and scored.reward is not None
        state = env.state()
        assert state["episode_id"] == episode_id and state["step_count"] == 3
    # Over plain HTTP, a session is named by the episode id reset returned.
    opened = requests.post(f"{base}/reset", json={}, timeout=60).json()
    stepped = requests.post(
        f"{base}/step",
        json={"episode_id": opened["observation"]["episode_id"], "action": {"action": "request_info", "params": {}}},
        timeout=60,
    ).json()
    assert stepped["observation"]["status"] == "ok" and stepped["done"] is False
