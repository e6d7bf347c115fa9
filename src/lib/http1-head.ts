/** An HTTP/1.x answer's status line and header fields (the text before the blank line). */
export interface Http1Head {
  status: number;
  /** HTTP/1.0: the connection closes after the answer unless it says keep-alive. */
  http10: boolean;
  /** Header names lower-cased; a field sent twice is joined with ", ". */
  headers: Record<string, string>;
}

/**
 * Parses the head of an HTTP/1.x answer, for Berth's hand-written clients (src/remotes/pooled-get.ts,
 * src/services/webhooks/pooled-post.ts); undefined when the status line is not HTTP/1.x.
 */
export function parseHttp1Head(text: string): Http1Head | undefined {
  const [statusLine, ...fields] = text.split('\r\n');
  const m = /^HTTP\/1\.([01]) (\d{3})/.exec(statusLine ?? '');
  if (!m) return undefined;
  const headers: Record<string, string> = {};
  for (const line of fields) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const key = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[key] = headers[key] === undefined ? value : `${headers[key]}, ${value}`;
  }
  return { status: Number(m[2]), http10: m[1] === '0', headers };
}
