import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import {
  findPrincipal,
  formatToken,
  hashSecret,
  type KeyLimits,
  type KeyRing,
  type KeysFile,
  keysFileSchema,
  type Scope,
  type StoredKey,
} from '../domain/api-keys';
import { ConfigError } from './load';

/**
 * The gateway's keys file (`gateway.keysFile`, mode 0600): only hashes of the secrets are stored.
 * `anvil keys` writes it; a running gateway re-reads it when it changes, so a revoke takes effect
 * without a restart.
 */

export function readKeysFile(file: string): KeysFile {
  if (!existsSync(file)) return { keys: [] };
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError(`keys file ${file} is not JSON (${(err as Error).message}); fix it or recreate keys`);
  }
  const result = keysFileSchema.safeParse(parsed);
  if (!result.success) throw new ConfigError(`keys file ${file} is malformed: ${result.error.message}`);
  return result.data;
}

function writeKeysFile(file: string, content: KeysFile): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(content, null, 2)}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}

/** Adds a key and returns its token: the only time the secret is shown. */
export function createKey(
  file: string,
  { name, scope, limits }: { name: string; scope: Scope; limits?: Partial<KeyLimits> },
): { key: StoredKey; token: string } {
  const content = readKeysFile(file);
  let id: string;
  do id = randomBytes(8).toString('hex').slice(0, 8);
  while (content.keys.some((k) => k.id === id));
  const secret = randomBytes(32).toString('base64url');
  const key: StoredKey = {
    id,
    name,
    scope,
    hash: hashSecret(secret),
    createdAt: new Date().toISOString(),
    ...(limits && Object.keys(limits).length ? { limits } : {}),
  };
  writeKeysFile(file, { keys: [...content.keys, key] });
  return { key, token: formatToken(id, secret) };
}

/** Marks a key revoked (kept, so that what it owns still names it); false if there is no such key. */
export function revokeKey(file: string, id: string): boolean {
  const content = readKeysFile(file);
  const key = content.keys.find((k) => k.id === id);
  if (!key) return false;
  key.revokedAt ??= new Date().toISOString();
  writeKeysFile(file, content);
  return true;
}

/** The keys file as a KeyRing, re-read when its modification time changes (checked at most once a second). */
export function fileKeyRing(file: string, defaults: KeyLimits): KeyRing {
  let keys: StoredKey[] = [];
  let seen = -1;
  let checkedAt = 0;
  const refresh = () => {
    const now = Date.now();
    if (now - checkedAt < 1000) return;
    checkedAt = now;
    const mtime = existsSync(file) ? statSync(file).mtimeMs : 0;
    if (mtime === seen) return;
    keys = readKeysFile(file).keys;
    seen = mtime;
  };
  return {
    authenticate(token) {
      refresh();
      return findPrincipal(keys, token, defaults);
    },
  };
}
