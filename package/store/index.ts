import type { AnvilConfig } from '../../config';
import { TypedError } from '../../domain/failures';
import { createFsStore } from './fs-store';
import { createS3Store } from './s3-store';
import type { ArtifactStore } from './store';

export type { ArtifactStore } from './store';
export { fencedScope, sessionStore } from './fencing';
export { getTree, getTreeFile, getTreeVersion, hasTree, putTree, readPointer, type TreePointer } from './trees';

/**
 * The store `config.store` names: the `paths.home` folder (shared volume) or an S3 bucket. The AWS
 * SDK is loaded only for S3 (`s3-store.ts`).
 */
export async function openStore(config: Pick<AnvilConfig, 'store' | 'paths'>): Promise<ArtifactStore> {
  const { backend, s3 } = config.store;
  if (backend === 'fs') return createFsStore(config.paths.home);
  if (!s3.bucket)
    throw new TypedError(
      'MissingSetting',
      'store.backend is s3 but store.s3.bucket is unset',
      'set ANVIL_S3_BUCKET (and ANVIL_S3_ENDPOINT for a server other than AWS)',
    );
  return createS3Store({ bucket: s3.bucket, region: s3.region, prefix: s3.prefix, endpoint: s3.endpoint });
}
