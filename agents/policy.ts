import type { Action, PolicyTurn } from '../domain/env';

/**
 * An agent driving an environment: given every turn so far (the opening observation first), the
 * next action, or null when it is finished. The episode driver (`anvil env run`, RL rollouts)
 * calls it until null or `done`.
 */
export interface Policy {
  name: string;
  next(turns: PolicyTurn[]): Promise<Action | null>;
}
