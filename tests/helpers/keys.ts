import { randomBytes } from 'node:crypto';
import {
  formatToken,
  hashSecret,
  type KeyLimits,
  type KeyRing,
  type Scope,
  staticKeyRing,
  type StoredKey,
} from '../../domain/api-keys';

/** Limits generous enough that no test but the ones about limits meets them. */
export const TEST_LIMITS: KeyLimits = {
  sessions: 1000,
  stepsPerMinute: 100_000,
  rolloutEpisodes: 10_000,
  llmRollouts: true,
};

/** An API key as `anvil keys create` makes one, kept in memory: the stored record and the token. */
export function testKey(name: string, scope: Scope = 'user', limits?: Partial<KeyLimits>) {
  const id = randomBytes(4).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  const key: StoredKey = {
    id,
    name,
    scope,
    hash: hashSecret(secret),
    createdAt: new Date().toISOString(),
    ...(limits ? { limits } : {}),
  };
  return { key, token: formatToken(id, secret) };
}

export function testKeyRing(keys: { key: StoredKey }[], defaults: KeyLimits = TEST_LIMITS): KeyRing {
  return staticKeyRing(
    keys.map((k) => k.key),
    defaults,
  );
}
