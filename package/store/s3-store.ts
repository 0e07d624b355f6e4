import {
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { type ArtifactStore, checkKey } from './store';

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
  const client = new S3Client({
    region: options.region,
    ...(options.endpoint ? { endpoint: options.endpoint, forcePathStyle: true } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
  });
  const Bucket = options.bucket;
  const full = (key: string) => `${options.prefix}${checkKey(key)}`;
  const listFull = async (prefix: string): Promise<string[]> => {
    const keys: string[] = [];
    let ContinuationToken: string | undefined;
    do {
      const page = await client.send(new ListObjectsV2Command({ Bucket, Prefix: prefix, ContinuationToken }));
      keys.push(...(page.Contents ?? []).flatMap((o) => (o.Key ? [o.Key] : [])));
      ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (ContinuationToken);
    return keys;
  };
  return {
    describe: `s3://${Bucket}/${options.prefix}${options.endpoint ? ` at ${options.endpoint}` : ''}`,
    async put(key, body) {
      await client.send(new PutObjectCommand({ Bucket, Key: full(key), Body: body }));
    },
    async get(key) {
      try {
        const out = await client.send(new GetObjectCommand({ Bucket, Key: full(key) }));
        return Buffer.from(await out.Body!.transformToByteArray());
      } catch (err) {
        if (err instanceof NoSuchKey) return undefined;
        throw err;
      }
    },
    async list(prefix) {
      return (await listFull(full(prefix))).map((k) => k.slice(options.prefix.length));
    },
    async children(prefix) {
      const Prefix = full(prefix);
      const names: string[] = [];
      let ContinuationToken: string | undefined;
      do {
        const page = await client.send(new ListObjectsV2Command({ Bucket, Prefix, Delimiter: '/', ContinuationToken }));
        for (const { Prefix: folder } of page.CommonPrefixes ?? [])
          if (folder) names.push(folder.slice(Prefix.length, -1));
        for (const { Key } of page.Contents ?? []) if (Key) names.push(Key.slice(Prefix.length));
        ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (ContinuationToken);
      return names;
    },
    async remove(keyOrPrefix) {
      const keys = keyOrPrefix.endsWith('/') ? await listFull(full(keyOrPrefix)) : [full(keyOrPrefix)];
      for (let i = 0; i < keys.length; i += 1000) {
        const Objects = keys.slice(i, i + 1000).map((Key) => ({ Key }));
        await client.send(new DeleteObjectsCommand({ Bucket, Delete: { Objects, Quiet: true } }));
      }
    },
  };
}
