import { storeSynced } from '../activities/store-sync';
import type { AnvilConfig } from '../config';
import { openStore } from '../package/store';
import { createStoreMirror } from '../package/store/mirror';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AsyncFunctions = Record<string, (...args: any[]) => Promise<unknown>>;

export interface ArtifactSyncOptions {
  /** makes this host's copy of a catalog path current (the catalog's own sync); default: nothing */
  prepareCatalogPath?: (path: string) => Promise<void>;
}

/**
 * What a worker wraps its activities in: with `store.backend: s3`, `storeSynced` over one store
 * and one mirror for this process (run artifacts follow the activities from host to host); with
 * `fs` (one shared folder), the activities themselves, untouched: no scan, no extra I/O.
 */
export async function artifactSync(
  config: Pick<AnvilConfig, 'store' | 'paths'>,
  options: ArtifactSyncOptions = {},
): Promise<<T extends AsyncFunctions>(activities: T) => T> {
  if (config.store.backend !== 's3') return (activities) => activities;
  const { home, artifacts, catalog } = config.paths;
  const mirror = createStoreMirror(await openStore(config), { home, artifacts });
  return (activities) => storeSynced(activities, { mirror, artifacts, catalog, ...options });
}
