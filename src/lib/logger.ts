import { pino, type LogFn, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

/** What services need of a logger; satisfied by pino and by Fastify's request logger. */
export interface Log {
  error: LogFn;
  warn: LogFn;
  info: LogFn;
  debug: LogFn;
}

/** Fields that may carry secrets are redacted wherever they appear in a log line. */
const redact = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'password',
  'secret',
  '*.password',
  '*.secret',
  'token',
  '*.token',
];

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  const options: LoggerOptions = { level, redact: { paths: redact, censor: '[redacted]' } };
  return destination ? pino(options, destination as pino.DestinationStream) : pino(options);
}
