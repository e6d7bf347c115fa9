import { readFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseYaml } from '../lib/yaml.js';
import { configSchema, envKeys, type BerthConfig, type BerthConfigInput } from './schema.js';

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export interface LoadOptions {
  /** Path of a YAML file; when omitted, ./berth.yaml is read if it exists. */
  file?: string;
  env?: NodeJS.ProcessEnv;
  /** Highest precedence: command-line flags and test overrides. */
  overrides?: BerthConfigInput;
}

/**
 * `storage` is a union keyed by `driver`, so its default must be a layer of its own: setting only
 * `storage.filesystem.root` (YAML or BERTH_STORAGE_FILESYSTEM_ROOT) keeps the filesystem driver.
 */
const storageDefault = { storage: { driver: 'filesystem' } };

/** defaults < berth.yaml < BERTH_* env < overrides. Throws ConfigError naming the bad key. */
export function loadConfig(options: LoadOptions = {}): BerthConfig {
  const env = options.env ?? process.env;
  const file = options.file ?? env.BERTH_CONFIG ?? (existsSync('berth.yaml') ? 'berth.yaml' : undefined);
  let fromFile: unknown = {};
  if (file) {
    try {
      fromFile = parseYaml(readFileSync(file, 'utf8')) ?? {};
    } catch (err) {
      throw new ConfigError(`cannot read config file ${file}: ${(err as Error).message}`);
    }
  }
  const layers = [storageDefault, fromFile, fromEnv(env), options.overrides ?? {}];
  const merged = layers.reduce((base, over) => deepMerge(base, over));
  const result = configSchema.safeParse(merged);
  if (!result.success) {
    const lines = result.error.issues.map((i) => {
      const key = i.path.join('.') || '(root)';
      const extra = i.code === 'unrecognized_keys' ? `: ${i.keys.join(', ')}` : '';
      return `  ${key}: ${i.message}${extra}`;
    });
    throw new ConfigError(`invalid configuration${file ? ` (${file})` : ''}:\n${lines.join('\n')}`);
  }
  const config = result.data;
  const dataDir = resolve(config.data.dir);
  if (config.storage.driver === 'filesystem' && !config.storage.filesystem.root) {
    config.storage.filesystem.root = join(dataDir, 'blobs');
  }
  return {
    ...config,
    database: { ...config.database, url: config.database.url ?? `sqlite:${join(dataDir, 'berth.db')}` },
  };
}

function fromEnv(env: NodeJS.ProcessEnv): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of envKeys) {
    const name = `BERTH_${key
      .replace(/([a-z])([A-Z])/g, '$1_$2')
      .replace(/\./g, '_')
      .toUpperCase()}`;
    const value = env[name];
    if (value === undefined || value === '') continue;
    const path = key.split('.');
    let node = out;
    for (const part of path.slice(0, -1)) node = (node[part] ??= {}) as Record<string, unknown>;
    node[path.at(-1)!] = value;
  }
  return out;
}

function deepMerge(base: unknown, over: unknown): unknown {
  if (!isPlain(base) || !isPlain(over)) return over === undefined ? base : over;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = deepMerge(base[k], v);
  return out;
}

function isPlain(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
