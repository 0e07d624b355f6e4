"""The HTTP client: standard library only, so a trainer can import it anywhere."""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
import uuid
from typing import Any, Dict, List, Optional, Tuple

from .models import Observation, Policy, RolloutResult, StepResult, policy_json


class AnvilError(Exception):
    """The gateway refused or failed a request: its HTTP status and error body
    ``{error: kind, message, type?, hint?, …}`` (the OpenAPI document's Error)."""

    def __init__(self, status: int, body: Dict[str, Any]):
        self.status = status
        self.body = body
        self.kind = body.get("error")
        hint = body.get("hint")
        super().__init__(f"HTTP {status} {self.kind}: {body.get('message')}" + (f" ({hint})" if hint else ""))


class _Http:
    def __init__(self, address: str, timeout: float, headers: Dict[str, str]):
        self.address = address.rstrip("/")
        self.timeout = timeout
        self.headers = headers

    def __call__(self, method: str, path: str, body: Any = None, headers: Optional[Dict[str, str]] = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.address + path,
            data=data,
            method=method,
            headers={**self.headers, **(headers or {}), **({"content-type": "application/json"} if data else {})},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as err:
            raw = err.read()
            try:
                parsed = json.loads(raw)
            except ValueError:
                parsed = {"error": "internal", "message": raw.decode(errors="replace")}
            raise AnvilError(err.code, parsed) from None


class Envs:
    """Dojo sessions: ``open`` a task, ``step`` actions, ``close`` it."""

    def __init__(self, http: _Http):
        self._http = http

    def open(self, task: str, steps: Optional[int] = None, reward_mode: Optional[str] = None) -> Tuple[str, Observation]:
        body: Dict[str, Any] = {"taskId": task}
        if steps is not None:
            body["budget"] = {"steps": steps}
        if reward_mode is not None:
            body["rewardMode"] = reward_mode
        created = self._http("POST", "/v1/envs", body)
        return created["envId"], Observation.from_json(created["observation"])

    def step(self, env_id: str, action: str, params: Optional[Dict[str, Any]] = None, key: Optional[str] = None) -> StepResult:
        """One action; a retry with the same ``key`` (Idempotency-Key) gets the same result, never a second step."""
        result = self._http(
            "POST",
            f"/v1/envs/{env_id}/step",
            {"action": action, "params": params or {}},
            {"Idempotency-Key": key or str(uuid.uuid4())},
        )
        return StepResult.from_json(result)

    def state(self, env_id: str) -> Dict[str, Any]:
        return self._http("GET", f"/v1/envs/{env_id}")

    def close(self, env_id: str) -> Dict[str, Any]:
        return self._http("DELETE", f"/v1/envs/{env_id}")


class Anvil:
    """``Anvil("http://localhost:8080")``: the gateway ``anvil server`` (or ``anvil env serve``) runs."""

    def __init__(self, address: str, timeout: float = 60.0, api_key: Optional[str] = None):
        api_key = api_key or os.environ.get("ANVIL_API_KEY")  # `anvil keys create` prints one
        headers = {"authorization": f"Bearer {api_key}"} if api_key else {}
        self._http = _Http(address, timeout, headers)
        self.envs = Envs(self._http)

    def tasks(self) -> List[Dict[str, Any]]:
        return self._http("GET", "/v1/tasks")["tasks"]

    def openapi(self) -> Dict[str, Any]:
        return self._http("GET", "/openapi.json")

    def start_rollout(
        self,
        tasks: List[str],
        policy: Policy,
        samples: int,
        max_steps: Optional[int] = None,
        concurrency: Optional[int] = None,
        reward_mode: Optional[str] = None,
    ) -> str:
        body: Dict[str, Any] = {"tasks": tasks, "policy": policy_json(policy), "samplesPerTask": samples}
        for key, value in (("maxSteps", max_steps), ("concurrency", concurrency), ("rewardMode", reward_mode)):
            if value is not None:
                body[key] = value
        return self._http("POST", "/v1/rollouts", body)["id"]

    def rollout_status(self, rollout_id: str) -> Dict[str, Any]:
        return self._http("GET", f"/v1/rollouts/{rollout_id}")

    def wait_rollout(self, rollout_id: str, poll_s: float = 1.0, timeout_s: float = 3600) -> RolloutResult:
        deadline = time.monotonic() + timeout_s
        while True:
            status = self.rollout_status(rollout_id)
            if status["status"] == "completed":
                return RolloutResult.from_json(status["result"])
            if status["status"] == "failed":
                failure = {k: v for k, v in status.items() if k not in ("status", "error")}
                raise AnvilError(422, {**failure, "error": "rejected", "message": status["error"]})
            if time.monotonic() > deadline:
                raise TimeoutError(f"rollout {rollout_id} still running after {timeout_s} s: {status.get('progress')}")
            time.sleep(poll_s)

    def rollout(self, tasks: List[str], policy: Policy, samples: int, **options: Any) -> RolloutResult:
        """Starts a batch (``samples`` episodes per task) and waits for its episodes and group stats."""
        wait = {k: options.pop(k) for k in ("poll_s", "timeout_s") if k in options}
        return self.wait_rollout(self.start_rollout(tasks, policy, samples, **options), **wait)
