// The client side of Anvil's Temporal cluster: connecting, Dojo sessions, rollouts, Web UI links.
// It may use domain/, config/ and the Temporal client SDK, never activities/, workers/, cli/ or gateway/.
export { type AnvilClient, type AnvilClientOptions, createAnvilClient } from './anvil-client';
export { connectTemporal, type TemporalConnection } from './connect';
export type { TaskSummary } from '../domain/env';
export type { RolloutStatus } from '../domain/rollouts';
export { EnvError, type EnvErrorKind, type EnvService, noEnvironment, OWNER_MEMO, unknownTask } from './env-service';
export type { RolloutService } from './rollouts';
