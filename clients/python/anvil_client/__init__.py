"""Anvil's HTTP gateway from Python: Dojo environments (``envs``) and RL rollout batches (``rollout``)."""

from .client import Anvil, AnvilError, Envs
from .models import (
    EpisodeOutcome,
    GroupStats,
    Observation,
    OpenAIPolicy,
    HeuristicPolicy,
    RolloutResult,
    StepResult,
)

__all__ = [
    "Anvil",
    "AnvilError",
    "Envs",
    "EpisodeOutcome",
    "GroupStats",
    "HeuristicPolicy",
    "Observation",
    "OpenAIPolicy",
    "RolloutResult",
    "StepResult",
]
