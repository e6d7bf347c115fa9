import { z } from 'zod';
import type { MetaStore } from '../../db/store.js';
import type { Clock } from '../../lib/clock.js';
import { AppError } from '../../lib/errors.js';
import { maxStorageLimit } from '../policies/quota/storage-limit.js';

/** A setting as Harbor's ConfigurationsResponse shows it. */
export interface ConfigItem {
  value: string | number | boolean;
  editable: boolean;
}

/** The settings that live in the database and change at run time, with their rules and defaults. */
const editable = {
  project_creation_restriction: {
    schema: z.enum(['everyone', 'adminonly'], {
      error: "project_creation_restriction must be 'everyone' or 'adminonly'",
    }),
    default: 'everyone',
  },
  robot_token_duration: {
    schema: z
      .number({ error: 'robot_token_duration must be a number of days' })
      .int('robot_token_duration must be a whole number of days')
      .min(1, 'robot_token_duration must be at least 1 day')
      .max(36500, 'robot_token_duration must be at most 36500 days'),
    default: 30,
  },
  storage_per_project: {
    schema: z
      .number({ error: 'storage_per_project must be a whole number of bytes, or -1 for no limit' })
      .int('storage_per_project must be a whole number of bytes, or -1 for no limit')
      .refine(
        (v) => v === -1 || v > 0,
        'storage_per_project must be -1 (no limit) or a positive number of bytes',
      )
      .refine(
        (v) => v <= maxStorageLimit,
        `storage_per_project must be at most 1024TB (${maxStorageLimit} bytes)`,
      ),
    default: -1,
  },
} as const;

type EditableKey = keyof typeof editable;

/** The current values of the run-time settings, typed. */
export interface SettingValues {
  projectCreationRestriction: 'everyone' | 'adminonly';
  /** Days a robot lives when created without its own duration. */
  robotTokenDuration: number;
  /** The storage limit of a project created without one, in bytes; -1 for none. */
  storagePerProject: number;
}

/**
 * Harbor's /configurations. Run-time settings live in the `setting` table; the rest (auth mode, LDAP,
 * OIDC, robot prefix) come from Berth's configuration file and are shown read-only (`fixed`), secrets left
 * out. Updating a fixed key is refused with the file key to change instead; nothing is written then.
 */
export class SettingsService {
  constructor(
    private readonly deps: {
      store: Pick<MetaStore, 'settings' | 'transaction'>;
      clock: Clock;
      /** Harbor key → [value, the berth.yaml key that sets it]. */
      fixed: Record<string, [string | number | boolean, string]>;
    },
  ) {}

  async values(): Promise<SettingValues> {
    const v = await this.stored();
    return {
      projectCreationRestriction:
        v.project_creation_restriction as SettingValues['projectCreationRestriction'],
      robotTokenDuration: v.robot_token_duration as number,
      storagePerProject: v.storage_per_project as number,
    };
  }

  /** Every setting, as Harbor's ConfigurationsResponse. */
  async all(): Promise<Record<string, ConfigItem>> {
    const out: Record<string, ConfigItem> = {};
    for (const [key, [value]] of Object.entries(this.deps.fixed)) out[key] = { value, editable: false };
    for (const [key, value] of Object.entries(await this.stored())) out[key] = { value, editable: true };
    return out;
  }

  /** Validates every key first; writes all of them or none. */
  async update(changes: Record<string, unknown>): Promise<void> {
    const rows: Record<string, string> = {};
    for (const [key, raw] of Object.entries(changes)) {
      const fixed = this.deps.fixed[key];
      if (fixed)
        throw new AppError(
          'BAD_REQUEST',
          `${key} is set in Berth's configuration file (${fixed[1]}), not here`,
        );
      if (!(key in editable))
        throw new AppError('BAD_REQUEST', `unknown or unsupported configuration ${key}`);
      const parsed = editable[key as EditableKey].schema.safeParse(raw);
      if (!parsed.success) throw new AppError('BAD_REQUEST', parsed.error.issues[0]!.message);
      rows[key] = JSON.stringify(parsed.data);
    }
    if (Object.keys(rows).length === 0) return;
    const now = this.deps.clock.now().toISOString();
    await this.deps.store.transaction((tx) => tx.settings.put(rows, now));
  }

  private async stored(): Promise<Record<EditableKey, string | number>> {
    const rows = await this.deps.store.settings.all();
    const out = {} as Record<EditableKey, string | number>;
    for (const key of Object.keys(editable) as EditableKey[]) {
      const text = rows.get(key);
      const parsed = text === undefined ? undefined : editable[key].schema.safeParse(JSON.parse(text));
      out[key] = parsed?.success ? parsed.data : editable[key].default;
    }
    return out;
  }
}
