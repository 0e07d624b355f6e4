import type { Action, Observation } from '../domain/env';

/** One step of an episode as a policy sees it. */
export interface PolicyTurn {
  observation: Observation;
  reward: number;
  done: boolean;
  /** the action that produced this observation; none for the opening observation */
  action?: Action;
}

/**
 * An agent driving an environment: given every turn so far (the opening observation first), the
 * next action, or null when it is finished. The episode driver (`anvil env run`, RL rollouts)
 * calls it until null or `done`.
 */
export interface Policy {
  name: string;
  next(turns: PolicyTurn[]): Promise<Action | null>;
}
