import type { z } from 'zod';
import type { BerthConfig } from '../config/schema.js';
import type { StorageDriver } from './driver.js';
import { FilesystemDriver, filesystemOptions } from './filesystem.js';
import { MemoryDriver, memoryOptions } from './memory.js';
import { s3Options } from './s3-options.js';

interface DriverFactory<S extends z.ZodType> {
  optionsSchema: S;
  create(options: z.infer<S>): Promise<StorageDriver>;
}

/** The only map from a storage driver's name to its factory. */
export const storageDrivers = {
  filesystem: {
    optionsSchema: filesystemOptions,
    create: async (options) => new FilesystemDriver(options),
  } satisfies DriverFactory<typeof filesystemOptions>,
  memory: {
    optionsSchema: memoryOptions,
    create: async (_options) => new MemoryDriver(),
  } satisfies DriverFactory<typeof memoryOptions>,
  s3: {
    optionsSchema: s3Options,
    // Loaded only when configured: the AWS SDK costs a node on another driver nothing.
    create: async (options) => (await import('./s3.js')).S3Driver.open(options),
  } satisfies DriverFactory<typeof s3Options>,
};

export type StorageDriverName = keyof typeof storageDrivers;

/** The driver `storage.driver` names, with its options from the config. */
export async function createConfiguredDriver(s: BerthConfig['storage']): Promise<StorageDriver> {
  return s.driver === 'filesystem'
    ? storageDrivers.filesystem.create(storageDrivers.filesystem.optionsSchema.parse(s.filesystem))
    : s.driver === 's3'
      ? storageDrivers.s3.create(s.s3)
      : storageDrivers.memory.create(storageDrivers.memory.optionsSchema.parse(s.memory));
}
