"""The client's models against the gateway's OpenAPI document: every field they read exists there."""

from dataclasses import fields

from anvil_client import EpisodeOutcome, GroupStats, HeuristicPolicy, Observation, OpenAIPolicy, RolloutResult
from anvil_client.models import Budget


def properties(doc, name):
    return set(doc["components"]["schemas"][name]["properties"])


def test_policies_serialise_to_the_wire_names_of_the_rollout_request(anvil):
    doc = anvil.openapi()
    spec = OpenAIPolicy(
        base_url="http://vllm:8000/v1", model="m", api_key_ref="k", temperature=0.5, top_p=0.9, max_tokens=64,
        seed=1, stop=["x"], logprobs=True, extra_body={"top_k": 2},
    ).to_json()
    variants = doc["components"]["schemas"]["RolloutRequest"]["properties"]["policy"]["anyOf"]
    objects = {v["properties"]["kind"]["const"]: v for v in variants[1]["oneOf"]}
    assert set(spec) == set(objects["openai"]["properties"])
    assert set(HeuristicPolicy(seed=3).to_json()) == set(objects["heuristic"]["properties"])
    assert OpenAIPolicy(model="m").to_json() == {"kind": "openai", "model": "m"}
    assert variants[0]["enum"] == ["heuristic", "openai"]


def test_result_models_name_only_fields_of_the_openapi_document(anvil):
    doc = anvil.openapi()
    for model, component in [
        (EpisodeOutcome, "EpisodeOutcome"),
        (GroupStats, "GroupStats"),
        (RolloutResult, "RolloutResult"),
        (Budget, "BudgetLeft"),
    ]:
        assert {f.name for f in fields(model)} == properties(doc, component), component
    observation = {f.name for f in fields(Observation)} - {"extra"}
    assert observation <= properties(doc, "Observation")
    assert set(doc["components"]["schemas"]["Observation"]["required"]) <= observation
