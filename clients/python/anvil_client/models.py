"""Typed views of the gateway's JSON (the OpenAPI document at /openapi.json is the reference;
tests/test_models.py checks these field names against it)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, Dict, List, Optional, Union


def _known(cls, data: Dict[str, Any]) -> Dict[str, Any]:
    """The keys of ``data`` the dataclass declares (a newer server may send more)."""
    names = {f.name for f in fields(cls)}
    return {k: v for k, v in data.items() if k in names}


@dataclass
class HeuristicPolicy:
    """Anvil's offline baseline agent."""

    seed: Optional[int] = None
    kind: str = "heuristic"

    def to_json(self) -> Dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


@dataclass
class OpenAIPolicy:
    """An OpenAI-compatible endpoint (vLLM serving a checkpoint, say) with its sampling settings.
    ``api_key_ref`` names a key the llm workers hold; raw keys are never sent."""

    base_url: Optional[str] = None
    model: Optional[str] = None
    api_key_ref: Optional[str] = None
    temperature: Optional[float] = None
    top_p: Optional[float] = None
    max_tokens: Optional[int] = None
    seed: Optional[int] = None
    stop: Optional[Union[str, List[str]]] = None
    logprobs: Optional[bool] = None
    extra_body: Optional[Dict[str, Any]] = None
    kind: str = "openai"

    _WIRE = {
        "base_url": "baseUrl",
        "api_key_ref": "apiKeyRef",
        "top_p": "topP",
        "max_tokens": "maxTokens",
        "extra_body": "extraBody",
    }

    def to_json(self) -> Dict[str, Any]:
        return {self._WIRE.get(k, k): v for k, v in asdict(self).items() if v is not None}


Policy = Union[str, HeuristicPolicy, OpenAIPolicy]


def policy_json(policy: Policy) -> Union[str, Dict[str, Any]]:
    return policy if isinstance(policy, str) else policy.to_json()


@dataclass
class Budget:
    stepsUsed: int
    stepsLeft: int
    wallTimeLeftS: float


@dataclass
class Observation:
    step: int
    action: str
    status: str
    message: str
    budget: Budget
    done: bool
    info: Optional[Dict[str, Any]] = None
    run: Optional[Dict[str, Any]] = None
    submission: Optional[Dict[str, Any]] = None
    score: Optional[Dict[str, Any]] = None
    error: Optional[Dict[str, Any]] = None
    extra: Dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: Dict[str, Any]) -> "Observation":
        known = _known(cls, data)
        known["budget"] = Budget(**_known(Budget, data["budget"]))
        extra = {k: v for k, v in data.items() if k not in known}
        return cls(**known, extra=extra)


@dataclass
class StepResult:
    observation: Observation
    reward: float
    done: bool

    @classmethod
    def from_json(cls, data: Dict[str, Any]) -> "StepResult":
        return cls(Observation.from_json(data["observation"]), data["reward"], data["done"])


@dataclass
class EpisodeOutcome:
    task: str
    sample: int
    status: str
    reward: float
    steps: int
    finalStep: Optional[int] = None
    envId: Optional[str] = None
    trajectory: Optional[str] = None
    transcript: Optional[str] = None
    error: Optional[str] = None


@dataclass
class GroupStats:
    task: str
    episodes: int
    mean: float
    std: float
    advantages: List[float]
    flagged: int


@dataclass
class RolloutResult:
    workflowId: str
    episodes: List[EpisodeOutcome]
    groups: List[GroupStats]

    @classmethod
    def from_json(cls, data: Dict[str, Any]) -> "RolloutResult":
        return cls(
            data["workflowId"],
            [EpisodeOutcome(**_known(EpisodeOutcome, e)) for e in data["episodes"]],
            [GroupStats(**_known(GroupStats, g)) for g in data["groups"]],
        )

    @property
    def mean_reward(self) -> float:
        return sum(e.reward for e in self.episodes) / max(1, len(self.episodes))
