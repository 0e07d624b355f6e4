import { parseArgs } from 'node:util';
import type { AnvilConfig } from '../../config';
import { createKey, readKeysFile, revokeKey } from '../../config/keys-file';
import type { KeyLimits, Scope } from '../../domain/api-keys';
import { inputError, usageError } from '../failure-report';

export const help = `anvil keys create --name NAME [--admin] [--sessions N] [--steps-per-minute N] [--rollout-episodes N] [--llm-rollouts]
anvil keys list [--json]
anvil keys revoke <key-id>
  API keys of the HTTP gateway (anvil env serve), kept hashed in gateway.keysFile (mode 0600).
  create prints the key once; clients send it as Authorization: Bearer <key>. An admin key sees
  every session and rollout; a user key only its own. Limits default to config gateway.limits.`;

function count(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw usageError(help, `--${flag} must be a positive whole number (got ${value})`);
  return n;
}

function create(argv: string[], config: AnvilConfig): number {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      name: { type: 'string' },
      admin: { type: 'boolean', default: false },
      sessions: { type: 'string' },
      'steps-per-minute': { type: 'string' },
      'rollout-episodes': { type: 'string' },
      'llm-rollouts': { type: 'boolean', default: false },
    },
  });
  if (!values.name) throw usageError(help, 'give the key a --name (who or what uses it)');
  const limits: Partial<KeyLimits> = {};
  const sessions = count('sessions', values.sessions);
  const stepsPerMinute = count('steps-per-minute', values['steps-per-minute']);
  const rolloutEpisodes = count('rollout-episodes', values['rollout-episodes']);
  if (sessions) limits.sessions = sessions;
  if (stepsPerMinute) limits.stepsPerMinute = stepsPerMinute;
  if (rolloutEpisodes) limits.rolloutEpisodes = rolloutEpisodes;
  if (values['llm-rollouts']) limits.llmRollouts = true;
  const scope: Scope = values.admin ? 'admin' : 'user';
  const { key, token } = createKey(config.gateway.keysFile, { name: values.name, scope, limits });
  console.error(`key ${key.id} (${scope}, "${key.name}") added to ${config.gateway.keysFile}; it is shown only now:`);
  console.log(token);
  return 0;
}

function list(argv: string[], config: AnvilConfig): number {
  const { values } = parseArgs({ args: argv, strict: true, options: { json: { type: 'boolean', default: false } } });
  const keys = readKeysFile(config.gateway.keysFile).keys.map(({ hash: _hash, ...key }) => key);
  if (values.json) console.log(JSON.stringify(keys));
  else if (!keys.length) console.log(`no keys in ${config.gateway.keysFile}: add one with \`anvil keys create\``);
  else {
    for (const k of keys) {
      const state = k.revokedAt ? `revoked ${k.revokedAt}` : 'active';
      console.log(`${k.id}  ${k.scope.padEnd(5)}  ${state.padEnd(32)}  ${k.name}`);
    }
  }
  return 0;
}

export async function run(argv: string[], config: AnvilConfig): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === 'create') return create(rest, config);
  if (sub === 'list') return list(rest, config);
  if (sub === 'revoke') {
    if (rest.length !== 1) throw usageError(help, 'give one key id (see `anvil keys list`)');
    if (!revokeKey(config.gateway.keysFile, rest[0]!))
      throw inputError(`no key ${rest[0]} in ${config.gateway.keysFile}`, 'see `anvil keys list` for the ids');
    console.log(`key ${rest[0]} revoked; a running gateway refuses it within a second`);
    return 0;
  }
  throw usageError(help, `unknown subcommand ${sub ?? '(none)'}: create, list or revoke`);
}
