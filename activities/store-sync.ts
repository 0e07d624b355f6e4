import { isAbsolute, relative, resolve, sep } from 'node:path';
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { StoreMirror } from '../package/store/mirror';

/**
 * Folders under `paths.artifacts` that are never synced: each host's own sandbox runs, scratch and
 * Dojo session workspaces (workers/deps.ts, workers/sandbox-workers.ts), and trajectories, which
 * go to the store by their own path (one object per step).
 */
const UNSYNCED_FOLDERS = ['runs', 'scratch', 'sessions', 'trajectories'] as const;

export interface StoreSyncDeps {
  mirror: StoreMirror;
  /** `paths.artifacts` and `paths.catalog` of this host */
  artifacts: string;
  catalog: string;
  /** makes this host's copy of a catalog path current before an activity reads it (default: nothing) */
  prepareCatalogPath?: (path: string) => Promise<void>;
}

/** Every string in `value` (deeply: arrays and plain objects) that is an absolute path under `root`. */
export function pathsUnder(value: unknown, root: string, found = new Set<string>(), depth = 0): Set<string> {
  if (depth > 32) return found;
  if (typeof value === 'string') {
    if (value.startsWith(root + sep) && isAbsolute(value)) {
      const path = resolve(value);
      if (path.startsWith(root + sep)) found.add(path);
    }
  } else if (ArrayBuffer.isView(value)) {
    return found; // bytes hold no paths
  } else if (Array.isArray(value)) {
    for (const item of value) pathsUnder(item, root, found, depth + 1);
  } else if (value !== null && typeof value === 'object') {
    for (const item of Object.values(value)) pathsUnder(item, root, found, depth + 1);
  }
  return found;
}

/** The artifact paths in `value` that are synced: under `artifacts`, outside the host-local folders and the catalog. */
export function syncedPaths(value: unknown, { artifacts, catalog }: { artifacts: string; catalog: string }): string[] {
  return [...pathsUnder(value, artifacts)].filter(
    (p) =>
      !(UNSYNCED_FOLDERS as readonly string[]).includes(relative(artifacts, p).split(sep)[0]!) &&
      !p.startsWith(catalog + sep),
  );
}

/**
 * Runs a transfer while heartbeating every few seconds when the activity has a heartbeat timeout,
 * repeating the details a previous attempt left (a training run's checkpoint), so a long pull or
 * push neither looks like a lost worker nor loses what the next attempt resumes from.
 */
async function beating<T>(transfer: () => Promise<T>): Promise<T> {
  let ctx: Context | undefined;
  try {
    ctx = Context.current();
  } catch {
    return transfer(); // called outside an activity (a direct call in a test or a script)
  }
  if (!ctx.info.heartbeatTimeoutMs) return transfer();
  const details = ctx.info.heartbeatDetails as unknown;
  const beat = () => ctx.heartbeat(details);
  const timer = setInterval(beat, Math.min(5000, ctx.info.heartbeatTimeoutMs / 3));
  try {
    return await transfer();
  } finally {
    clearInterval(timer);
  }
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AsyncFunctions = Record<string, (...args: any[]) => Promise<unknown>>;

/**
 * The same activities, with their run artifacts in the store (S3 mode, where hosts share no
 * folder): before each, the artifact paths in its input are pulled (and catalog paths handed to
 * `prepareCatalogPath`); after it succeeds, those paths and the ones in its result are pushed,
 * before it returns, so a result Temporal records is always backed by the store. An attempt that
 * throws or dies pushes nothing: its retry, on any host, starts from the store.
 */
export function storeSynced<T extends AsyncFunctions>(activities: T, deps: StoreSyncDeps): T {
  const { mirror, catalog, prepareCatalogPath } = deps;
  /** A failed transfer is the store's failure, retryable, named with the activity and the paths. */
  const transfer = async (activity: string, way: 'pull' | 'push', paths: string[]) => {
    try {
      await beating(() => mirror[way](paths));
    } catch (err) {
      const what = `${paths.slice(0, 3).join(', ')}${paths.length > 3 ? ` and ${paths.length - 3} more` : ''}`;
      const where = way === 'pull' ? `from ${mirror.describe} before` : `to ${mirror.describe} after`;
      throw ApplicationFailure.retryable(
        `could not ${way} ${what} ${where} ${activity}: ${(err as Error).message}`,
        'StoreUnavailable',
      );
    }
  };
  return Object.fromEntries(
    Object.entries(activities).map(([name, fn]) => [
      name,
      async (...args: unknown[]) => {
        if (prepareCatalogPath) for (const path of pathsUnder(args, catalog)) await prepareCatalogPath(path);
        const inputs = syncedPaths(args, deps);
        if (inputs.length) await transfer(name, 'pull', inputs);
        const result = await fn(...args);
        const outputs = [...inputs, ...syncedPaths(result, deps)];
        if (outputs.length) await transfer(name, 'push', outputs);
        return result;
      },
    ]),
  ) as T;
}
