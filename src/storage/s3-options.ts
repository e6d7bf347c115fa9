import { z } from 'zod';

/**
 * `storage.s3` settings. Kept apart from s3.ts so that reading the config never loads the AWS SDK: a node
 * on the filesystem driver does not pay its memory.
 */
const bool = z.preprocess((v) => (v === 'true' ? true : v === 'false' ? false : v), z.boolean());

export const s3Options = z
  .object({
    bucket: z.string().min(3),
    region: z.string().min(1).default('us-east-1'),
    /** An S3-compatible server's URL (Ceph RGW, MinIO, ...); omitted for AWS itself. */
    endpoint: z.url().optional(),
    /** Bucket in the path (`endpoint/bucket/key`) instead of the host name: what most non-AWS servers want. */
    forcePathStyle: bool.default(false),
    /** Both omitted: the SDK's default chain (env, shared files, instance role). */
    accessKeyId: z.string().min(1).optional(),
    secretAccessKey: z.string().min(1).optional(),
    /** A folder inside the bucket that holds everything Berth stores (no leading or trailing '/'). */
    prefix: z
      .string()
      .regex(/^$|^[^/](.*[^/])?$/, 'no leading or trailing "/"')
      .default(''),
    /** Blob GETs on /v2 answer 307 to a presigned URL of the object, as distribution's `redirect` option. */
    redirect: bool.default(false),
    /** A connection to the store not made within this long fails (and is retried, see maxAttempts). */
    connectTimeoutMs: z.coerce.number().int().min(1).default(3000),
    /**
     * A call whose connection carries no byte either way for this long fails: a store that stops answering
     * holds a request this long (per attempt) before the client is answered 503 with Retry-After. Calls that
     * keep moving bytes (a large part being sent, a blob being read) are never cut.
     */
    idleTimeoutMs: z.coerce.number().int().min(1).default(15_000),
    /** Tries of one S3 call in all, the first included (the SDK retries 5xx, throttling and timeouts; 3 is its default). */
    maxAttempts: z.coerce.number().int().min(1).max(10).default(3),
  })
  .strict()
  .refine((o) => (o.accessKeyId === undefined) === (o.secretAccessKey === undefined), {
    message: 'accessKeyId and secretAccessKey go together',
    path: ['secretAccessKey'],
  });
export type S3Options = z.infer<typeof s3Options>;
