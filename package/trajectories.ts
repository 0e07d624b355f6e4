import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { AnvilConfig } from '../config';
import type { TrajectoryEntry } from '../domain/env';
import { TypedError } from '../domain/failures';
import { type ArtifactStore, openStore } from './store';
import { appendStepOnce, readTrajectoryFile, recordedStep } from './trajectory-file';

/**
 * A Dojo session's trajectory: each step appended exactly once, read back in step order. Its ref
 * (what workflows carry) says where it lives: a JSONL file path (`fs` store, and every recorded
 * history), or `store:trajectories/<env>/` (`s3` store: one object per step, `<step>.json`, so a
 * retried append writes the same key, and any host reads what another appended).
 */
export interface Trajectories {
  /** the ref a new session's trajectory gets (fs: its folder is made) */
  open(envId: string): Promise<string>;
  /** the ref of a session's trajectory by its id (nothing is made) */
  refOf(envId: string): string;
  /** appends the step unless the trajectory holds it already */
  append(ref: string, entry: TrajectoryEntry): Promise<void>;
  /** the entry of this step, if recorded */
  recorded(ref: string, step: number): Promise<TrajectoryEntry | undefined>;
  /** every recorded step in order; undefined when there is no such trajectory */
  read(ref: string): Promise<TrajectoryEntry[] | undefined>;
}

const STORE_REF = 'store:';
const STORE_REF_PATTERN = /^store:(trajectories\/[A-Za-z0-9_.-]+\/)$/;
/** steps read from the store at once */
const READ_BATCH = 32;

const safeName = (envId: string) => envId.replace(/[^A-Za-z0-9_.-]+/g, '_');
const stepKey = (prefix: string, step: number) => `${prefix}${String(step).padStart(6, '0')}.json`;

/**
 * Trajectories as files under `dir` or, given a store, as objects in it. File refs are read and
 * appended as files whatever the store (histories recorded before the store was switched).
 */
export function createTrajectories({ dir, store }: { dir: string; store?: ArtifactStore }): Trajectories {
  /** the store prefix of a `store:` ref; undefined for a file ref */
  const prefixOf = (ref: string): string | undefined => {
    if (!ref.startsWith(STORE_REF)) return undefined;
    const prefix = STORE_REF_PATTERN.exec(ref)?.[1];
    if (!prefix) throw new TypedError('BadInput', `"${ref}" is not a trajectory ref (store:trajectories/<env-id>/)`);
    if (!store)
      throw new TypedError(
        'MissingSetting',
        `the trajectory ${ref} is in the artifact store, but this host's store.backend is fs`,
        'set ANVIL_STORE=s3 and the ANVIL_S3_* settings of the cluster that recorded it',
      );
    return prefix;
  };
  const parse = (body: Buffer) => JSON.parse(body.toString('utf8')) as TrajectoryEntry;
  const refOf = (envId: string) => {
    const name = safeName(envId);
    // `.` and `..` are no store key segments
    return store ? `${STORE_REF}trajectories/${/^\.+$/.test(name) ? `_${name}` : name}/` : join(dir, `${name}.jsonl`);
  };

  return {
    async open(envId) {
      if (!store) await mkdir(dir, { recursive: true });
      return refOf(envId);
    },
    refOf,
    async append(ref, entry) {
      const prefix = prefixOf(ref);
      if (prefix === undefined) return appendStepOnce(ref, entry);
      const key = stepKey(prefix, entry.step);
      if ((await store!.get(key)) === undefined) await store!.put(key, JSON.stringify(entry));
    },
    async recorded(ref, step) {
      const prefix = prefixOf(ref);
      if (prefix === undefined) return recordedStep(ref, step);
      const body = await store!.get(stepKey(prefix, step));
      return body && parse(body);
    },
    async read(ref) {
      const prefix = prefixOf(ref);
      if (prefix === undefined) return readTrajectoryFile(ref);
      const keys = (await store!.list(prefix))
        .flatMap((key) => {
          const step = /^(\d+)\.json$/.exec(key.slice(prefix.length))?.[1];
          return step === undefined ? [] : [{ key, step: Number(step) }];
        })
        .sort((a, b) => a.step - b.step);
      if (keys.length === 0) return undefined;
      const entries: TrajectoryEntry[] = [];
      for (let i = 0; i < keys.length; i += READ_BATCH) {
        const bodies = await Promise.all(keys.slice(i, i + READ_BATCH).map(({ key }) => store!.get(key)));
        entries.push(...bodies.flatMap((b) => (b ? [parse(b)] : [])));
      }
      return entries;
    },
  };
}

/** The trajectories `config.store` names: files under `paths.artifacts/trajectories`, or the S3 store. */
export async function openTrajectories(config: Pick<AnvilConfig, 'store' | 'paths'>): Promise<Trajectories> {
  const dir = join(config.paths.artifacts, 'trajectories');
  return createTrajectories({ dir, store: config.store.backend === 's3' ? await openStore(config) : undefined });
}
