import type { Policy } from '../agents/policy';
import type { CreateEnvRequest, EnvState, PolicyTurn } from '../domain/env';
import type { EnvService } from '../gateway/env-service';

export interface EpisodeResult {
  envId: string;
  turns: PolicyTurn[];
  /** the best reward of the episode */
  reward: number;
  state: EnvState;
}

/** Plays one episode: the policy acts until it stops or the session ends; the session is closed after. */
export async function runEpisode(envs: EnvService, policy: Policy, request: CreateEnvRequest, onTurn?: (turn: PolicyTurn) => void): Promise<EpisodeResult> {
  const { envId, observation } = await envs.create(request);
  const turns: PolicyTurn[] = [{ observation, reward: 0, done: observation.done }];
  onTurn?.(turns[0]!);
  try {
    for (let action = await policy.next(turns); action && !turns.at(-1)!.done; action = await policy.next(turns)) {
      const result = await envs.step(envId, action);
      const turn = { ...result, action };
      turns.push(turn);
      onTurn?.(turn);
    }
  } finally {
    if (!turns.at(-1)!.done) await envs.close(envId).catch(() => undefined);
  }
  const state = await envs.get(envId);
  return { envId, turns, reward: Math.max(0, ...turns.map((t) => t.reward)), state };
}
