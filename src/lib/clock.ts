/** Time source, injectable so tests can move it. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** Go's RFC 3339 form of a stored time (whole seconds), as Harbor's task API writes it; Go's zero time for none. */
export function rfc3339(iso: string | null | undefined): string {
  return iso ? iso.replace(/\.\d{3}Z$/, 'Z') : '0001-01-01T00:00:00Z';
}
