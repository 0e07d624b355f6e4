import type * as S3 from '@aws-sdk/client-s3';
import { TypedError } from '../../domain/failures';
import { type ArtifactStore, checkKey, type StoredVersion } from './store';

/**
 * The AWS SDK, loaded on a store's first call (hosts on the `fs` store never load it). A package
 * import(), which resolves both under the CLI's CommonJS loader (tsx/cjs) and under vitest; an
 * import() of a .ts file does not resolve under the former.
 */
let sdk: Promise<typeof S3> | undefined;
const loadSdk = () => (sdk ??= import('@aws-sdk/client-s3'));

export interface S3StoreOptions {
  bucket: string;
  region: string;
  /** every key starts with this, e.g. `anvil/` */
  prefix: string;
  /** an S3-compatible server (MinIO, Ceph, …); unset = AWS */
  endpoint?: string;
  /** explicit credentials (tests); unset = the AWS SDK's usual chain (env, profile, instance role) */
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

/**
 * The store as an S3 bucket (`@aws-sdk/client-s3`). A PutObject is whole by S3's own rules: a
 * reader gets the old object or the new one, never part of the upload.
 */
export function createS3Store(options: S3StoreOptions): ArtifactStore {
  let client: Promise<{ sdk: typeof S3; s3: S3.S3Client }> | undefined;
  const connect = () =>
    (client ??= loadSdk().then((sdk) => {
      const s3 = new sdk.S3Client({
        region: options.region,
        ...(options.endpoint ? { endpoint: options.endpoint, forcePathStyle: true } : {}),
        ...(options.credentials ? { credentials: options.credentials } : {}),
      });
      return { sdk, s3 };
    }));
  const Bucket = options.bucket;
  const full = (key: string) => `${options.prefix}${checkKey(key)}`;
  const listObjects = async (prefix: string): Promise<StoredVersion[]> => {
    const { sdk, s3 } = await connect();
    const objects: StoredVersion[] = [];
    let ContinuationToken: string | undefined;
    do {
      const page = await s3.send(new sdk.ListObjectsV2Command({ Bucket, Prefix: prefix, ContinuationToken }));
      for (const o of page.Contents ?? [])
        if (o.Key) objects.push({ key: o.Key, size: o.Size ?? 0, etag: o.ETag ?? `${o.LastModified?.getTime()}` });
      ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (ContinuationToken);
    return objects;
  };
  const listFull = async (prefix: string): Promise<string[]> => (await listObjects(prefix)).map((o) => o.key);
  return unavailableAsTyped({
    describe: `s3://${Bucket}/${options.prefix}${options.endpoint ? ` at ${options.endpoint}` : ''}`,
    async put(key, body) {
      const { sdk, s3 } = await connect();
      await s3.send(new sdk.PutObjectCommand({ Bucket, Key: full(key), Body: body }));
    },
    async get(key) {
      const { sdk, s3 } = await connect();
      try {
        const out = await s3.send(new sdk.GetObjectCommand({ Bucket, Key: full(key) }));
        return Buffer.from(await out.Body!.transformToByteArray());
      } catch (err) {
        if (err instanceof sdk.NoSuchKey) return undefined;
        throw err;
      }
    },
    async list(prefix) {
      return (await listFull(full(prefix))).map((k) => k.slice(options.prefix.length));
    },
    async listVersions(prefix) {
      const wanted = full(prefix);
      // a prefix without `/` names one object: S3 would also list its longer-named neighbours
      return (await listObjects(wanted))
        .filter((o) => prefix.endsWith('/') || o.key === wanted)
        .map((o) => ({ ...o, key: o.key.slice(options.prefix.length) }));
    },
    async children(prefix) {
      const { sdk, s3 } = await connect();
      const Prefix = full(prefix);
      const names: string[] = [];
      let ContinuationToken: string | undefined;
      do {
        const page = await s3.send(new sdk.ListObjectsV2Command({ Bucket, Prefix, Delimiter: '/', ContinuationToken }));
        for (const { Prefix: folder } of page.CommonPrefixes ?? [])
          if (folder) names.push(folder.slice(Prefix.length, -1));
        for (const { Key } of page.Contents ?? []) if (Key) names.push(Key.slice(Prefix.length));
        ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (ContinuationToken);
      return names;
    },
    async remove(keyOrPrefix) {
      const { sdk, s3 } = await connect();
      const keys = keyOrPrefix.endsWith('/') ? await listFull(full(keyOrPrefix)) : [full(keyOrPrefix)];
      for (let i = 0; i < keys.length; i += 1000) {
        const Objects = keys.slice(i, i + 1000).map((Key) => ({ Key }));
        await s3.send(new sdk.DeleteObjectsCommand({ Bucket, Delete: { Objects, Quiet: true } }));
      }
    },
  });
}

/**
 * The store whose calls fail as `StoreUnavailable`, naming the bucket and endpoint: the SDK's own
 * errors (a refused connection, missing credentials, no such bucket) say neither, and a refused
 * connection would otherwise read as Temporal's.
 */
function unavailableAsTyped(store: ArtifactStore): ArtifactStore {
  const typed =
    <A extends unknown[], R>(call: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      try {
        return await call(...args);
      } catch (err) {
        if (err instanceof TypedError) throw err;
        const { name, message } = err as Error;
        throw new TypedError('StoreUnavailable', `artifact store ${store.describe}: ${name}: ${message}`);
      }
    };
  return {
    describe: store.describe,
    put: typed(store.put),
    get: typed(store.get),
    list: typed(store.list),
    listVersions: typed(store.listVersions),
    children: typed(store.children),
    remove: typed(store.remove),
  };
}
