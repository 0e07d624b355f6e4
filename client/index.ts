// The client side of Anvil's Temporal cluster: connecting, Dojo sessions, rollouts, Web UI links.
// It may use domain/, config/ and the Temporal client SDK, never activities/, workers/, cli/ or gateway/.
export { type AnvilClient, type AnvilClientOptions, createAnvilClient } from './anvil-client';
export { connectTemporal, type TemporalConnection } from './connect';
export { EnvError, type EnvErrorKind, type EnvService, type TaskSummary } from './env-service';
export type { RolloutService, RolloutStatus } from './rollouts';
