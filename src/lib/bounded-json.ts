/**
 * Parsing of untrusted JSON with bounds. Content that clients push (manifests, image configs, later SBOMs
 * and scan reports) is parsed again long after the push; a document nested 100,000 levels deep parses
 * fine in V8 but overflows the stack of every recursive walk after it (JSON.stringify, schema checks).
 * So the size and the nesting depth are checked first, in one linear pass over the bytes, and a document
 * over either bound is never handed to JSON.parse.
 */

/** Why untrusted content was refused: the bound it broke, for messages and metrics. */
export class ContentBoundError extends Error {
  constructor(
    readonly bound: 'size' | 'depth' | 'syntax' | 'decompressed' | 'entries' | 'time' | 'format',
    message: string,
  ) {
    super(message);
    this.name = 'ContentBoundError';
  }
}

export interface JsonBounds {
  maxBytes: number;
  /** Deepest nesting of arrays and objects allowed; a scalar at the top is depth 0. */
  maxDepth: number;
}

/** Depth far above any real manifest or config (those stay under 8), far below a stack overflow. */
export const defaultMaxJsonDepth = 64;

const quote = 0x22;
const backslash = 0x5c;
const openers = new Set([0x5b, 0x7b]);
const closers = new Set([0x5d, 0x7d]);

/**
 * The deepest nesting of arrays and objects in JSON bytes, counted outside strings; stops as soon as
 * `limit` is passed (returning limit + 1). Multi-byte UTF-8 never contains ASCII bytes, so a byte scan
 * is exact.
 */
export function jsonDepth(bytes: Uint8Array, limit = Number.MAX_SAFE_INTEGER): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (inString) {
      if (b === backslash) i++;
      else if (b === quote) inString = false;
    } else if (b === quote) inString = true;
    else if (openers.has(b)) {
      if (++depth > deepest) {
        deepest = depth;
        if (deepest > limit) return deepest;
      }
    } else if (closers.has(b)) depth--;
  }
  return deepest;
}

/** JSON.parse behind a size and a depth bound; throws ContentBoundError for either, and for bad JSON. */
export function parseBoundedJson(input: Buffer | string, bounds: Partial<JsonBounds> = {}): unknown {
  const bytes = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
  const maxBytes = bounds.maxBytes ?? Number.MAX_SAFE_INTEGER;
  const maxDepth = bounds.maxDepth ?? defaultMaxJsonDepth;
  if (bytes.length > maxBytes) {
    throw new ContentBoundError('size', `document of ${bytes.length} bytes exceeds the limit of ${maxBytes}`);
  }
  if (jsonDepth(bytes, maxDepth) > maxDepth) {
    throw new ContentBoundError('depth', `document nests deeper than ${maxDepth} levels`);
  }
  try {
    return JSON.parse(bytes.toString('utf8')) as unknown;
  } catch (err) {
    throw new ContentBoundError('syntax', `not valid JSON: ${(err as Error).message}`);
  }
}

/** A JSON object (not an array or scalar) within the bounds, or undefined: for content read back later. */
export function tryParseJsonObject(
  input: Buffer | string,
  bounds: Partial<JsonBounds> = {},
): Record<string, unknown> | undefined {
  try {
    const doc = parseBoundedJson(input, bounds);
    return typeof doc === 'object' && doc !== null && !Array.isArray(doc)
      ? (doc as Record<string, unknown>)
      : undefined;
  } catch (err) {
    if (err instanceof ContentBoundError) return undefined;
    throw err;
  }
}
