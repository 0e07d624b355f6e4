import { TypedError } from '../../domain/failures';
import type { ArtifactStore } from './store';
import { getTree, hasTree, putTree } from './trees';

const pad = (epoch: number) => String(epoch).padStart(10, '0');

/**
 * What one owner (a session's host) writes to the store, fenced by an epoch. The workflow that
 * owns the session gives each placement the next epoch and records it with `advance`; every write
 * checks it and lands under the writer's own epoch (`<scope>/e-<epoch>/…`), and readers read the
 * newest epoch that is not ahead of the current one. A lost host, still holding the old epoch,
 * is refused (`FencedOut`), and even a write that slips past the check lands where no reader of
 * the new epoch looks: it can no longer write what the new host owns.
 */
export function fencedScope(store: ArtifactStore, scope: string) {
  const epochKey = `${scope}/epoch`;
  const current = async (): Promise<number> => Number((await store.get(epochKey))?.toString('utf8') ?? 0);
  const check = async (epoch: number) => {
    const now = await current();
    if (epoch !== now)
      throw new TypedError(
        'FencedOut',
        `${scope}: this host writes as epoch ${epoch}, but the store's owner is epoch ${now} (${store.describe})`,
        'the session moved to another host; this host must stop its container and drop its work',
      );
  };
  /** epochs that hold `key` (as a tree or an object), newest first, none ahead of the current one */
  const epochsWith = async (key: string, isTree: boolean): Promise<number[]> => {
    const now = await current();
    const epochs = new Set(
      (await store.list(`${scope}/`))
        .map((k) => /^e-(\d+)\//.exec(k.slice(scope.length + 1))?.[1])
        .flatMap((e) => (e === undefined ? [] : [Number(e)]))
        .filter((e) => e <= now),
    );
    const found: number[] = [];
    for (const e of [...epochs].sort((a, b) => b - a)) {
      const at = `${scope}/e-${pad(e)}/${key}`;
      if (isTree ? await hasTree(store, at) : (await store.get(at)) !== undefined) found.push(e);
    }
    return found;
  };
  return {
    current,
    /** Makes `epoch` the owner; an epoch at or below the current one is refused (a stale mover). */
    async advance(epoch: number): Promise<void> {
      const now = await current();
      if (epoch <= now)
        throw new TypedError('FencedOut', `${scope}: epoch ${epoch} is not ahead of the store's owner ${now}`);
      await store.put(epochKey, String(epoch));
    },
    async put(epoch: number, key: string, body: Buffer | string): Promise<void> {
      await check(epoch);
      await store.put(`${scope}/e-${pad(epoch)}/${key}`, body);
    },
    async putTree(epoch: number, key: string, dir: string): Promise<void> {
      await check(epoch);
      await putTree(store, `${scope}/e-${pad(epoch)}/${key}`, dir);
    },
    /** the newest object at `key` that an owner up to the current epoch wrote */
    async get(key: string): Promise<Buffer | undefined> {
      const [e] = await epochsWith(key, false);
      return e === undefined ? undefined : store.get(`${scope}/e-${pad(e)}/${key}`);
    },
    /** fetches the newest tree at `key` into `intoDir`; the epoch it came from, or undefined when none */
    async getTree(key: string, intoDir: string): Promise<number | undefined> {
      const [e] = await epochsWith(key, true);
      if (e === undefined) return undefined;
      await getTree(store, `${scope}/e-${pad(e)}/${key}`, intoDir);
      return e;
    },
  };
}

/**
 * A Dojo session's workspace snapshots: the workspace stays host-local, and the host that owns the
 * session snapshots it after its steps; a host the session moves to starts from the last snapshot.
 */
export const sessionStore = (store: ArtifactStore, sessionId: string) =>
  fencedScope(store, `sessions/${sessionId.replace(/[^A-Za-z0-9_.-]/g, '_')}`);
