import { createHash, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

/**
 * The gateway's API keys. A key is `anvil_<id>_<secret>`: the id names it (in lists, logs and as
 * the owner of what it starts), the secret is only ever stored as its SHA-256 (it is 32 random
 * bytes, so a plain hash is enough; no password stretching needed).
 */

export const KEY_ID = /^[a-z0-9]{8}$/;
const TOKEN = /^anvil_([a-z0-9]{8})_([A-Za-z0-9_-]{43})$/;

/** What one key may spend; unset = the gateway's defaults (config `gateway.limits`). */
export const keyLimitsSchema = z.strictObject({
  /** sessions open at once */
  sessions: z.number().int().positive().max(10_000),
  /** steps (any action) per minute, over all of the key's sessions */
  stepsPerMinute: z.number().int().positive().max(1_000_000),
  /** episodes (tasks × samplesPerTask) in one rollout */
  rolloutEpisodes: z.number().int().positive().max(1_000_000),
  /** whether the key may start rollouts with the `openai` policy (it spends the operator's LLM budget) */
  llmRollouts: z.boolean(),
});
export type KeyLimits = z.infer<typeof keyLimitsSchema>;

export const SCOPES = ['user', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

export const storedKeySchema = z.strictObject({
  id: z.string().regex(KEY_ID),
  name: z.string().min(1).max(100),
  scope: z.enum(SCOPES),
  /** hex SHA-256 of the secret */
  hash: z.string().regex(/^[0-9a-f]{64}$/),
  createdAt: z.iso.datetime(),
  revokedAt: z.iso.datetime().optional(),
  limits: keyLimitsSchema.partial().optional(),
});
export type StoredKey = z.infer<typeof storedKeySchema>;

export const keysFileSchema = z.strictObject({ keys: z.array(storedKeySchema) });
export type KeysFile = z.infer<typeof keysFileSchema>;

/** Who a request is: its key's id (the owner of what it starts), scope and limits. */
export interface Principal {
  keyId: string;
  name: string;
  scope: Scope;
  limits: KeyLimits;
}

/** Looks a bearer token up; undefined for an unknown, malformed or revoked one. */
export interface KeyRing {
  authenticate(token: string): Principal | undefined;
}

export const hashSecret = (secret: string) => createHash('sha256').update(secret).digest('hex');

export const formatToken = (id: string, secret: string) => `anvil_${id}_${secret}`;

export function parseToken(token: string): { id: string; secret: string } | undefined {
  const match = TOKEN.exec(token);
  return match ? { id: match[1]!, secret: match[2]! } : undefined;
}

/** The principal `token` stands for among `keys`, comparing hashes in constant time. */
export function findPrincipal(keys: StoredKey[], token: string, defaults: KeyLimits): Principal | undefined {
  const parsed = parseToken(token);
  if (!parsed) return undefined;
  const key = keys.find((k) => k.id === parsed.id && !k.revokedAt);
  if (!key) return undefined;
  const given = Buffer.from(hashSecret(parsed.secret), 'hex');
  if (!timingSafeEqual(given, Buffer.from(key.hash, 'hex'))) return undefined;
  return { keyId: key.id, name: key.name, scope: key.scope, limits: { ...defaults, ...key.limits } };
}

/** A ring over a fixed list (tests, and the keys file once read). */
export function staticKeyRing(keys: StoredKey[], defaults: KeyLimits): KeyRing {
  return { authenticate: (token) => findPrincipal(keys, token, defaults) };
}
