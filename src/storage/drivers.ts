import type { z } from 'zod';
import type { StorageDriver } from './driver.js';
import { FilesystemDriver, filesystemOptions } from './filesystem.js';
import { MemoryDriver, memoryOptions } from './memory.js';

interface DriverFactory<S extends z.ZodType> {
  optionsSchema: S;
  create(options: z.infer<S>): StorageDriver;
}

/** The only map from a storage driver's name to its factory. */
export const storageDrivers = {
  filesystem: {
    optionsSchema: filesystemOptions,
    create: (options) => new FilesystemDriver(options),
  } satisfies DriverFactory<typeof filesystemOptions>,
  memory: {
    optionsSchema: memoryOptions,
    create: (_options) => new MemoryDriver(),
  } satisfies DriverFactory<typeof memoryOptions>,
};

export type StorageDriverName = keyof typeof storageDrivers;
