"""Dojo sessions and rollout batches over HTTP, against a live gateway."""

import pytest

from anvil_client import AnvilError, HeuristicPolicy, OpenAIPolicy


def test_a_session_opens_steps_and_closes(anvil, task):
    assert task in [t["id"] for t in anvil.tasks()]
    env_id, observation = anvil.envs.open(task, steps=3)
    assert observation.budget.stepsLeft == 3 and not observation.done
    result = anvil.envs.step(env_id, "request_info", {"kind": "overview"}, key="py-1")
    assert result.observation.status == "ok" and result.observation.info["kind"] == "overview"
    again = anvil.envs.step(env_id, "request_info", {"kind": "overview"}, key="py-1")
    assert again.observation.step == result.observation.step  # the same step, not a second one
    state = anvil.envs.close(env_id)
    assert state["stepsUsed"] == 1


def test_an_unknown_task_is_a_typed_error(anvil):
    with pytest.raises(AnvilError) as err:
        anvil.envs.open("no-such-task")
    assert err.value.status == 404 and "no-such-task" in str(err.value)


def test_a_heuristic_rollout_returns_episodes_and_groups(anvil, task):
    result = anvil.rollout([task], HeuristicPolicy(), 2, max_steps=6, reward_mode="raw")
    assert [e.status for e in result.episodes] == ["completed", "completed"]
    assert all(e.reward > 0 for e in result.episodes)
    assert result.groups[0].task == task and len(result.groups[0].advantages) == 2


def test_an_endpoint_outside_the_allow_list_is_refused_at_once(anvil, task):
    with pytest.raises(AnvilError) as err:
        anvil.start_rollout([task], OpenAIPolicy(base_url="http://elsewhere.example/v1"), 1)
    assert err.value.status == 400 and "not an allowed endpoint" in str(err.value)
