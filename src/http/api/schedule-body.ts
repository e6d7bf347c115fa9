import { z } from 'zod';
import { scheduleTypes } from '../../jobs/cron.js';

/**
 * Harbor's `Schedule` body of the system jobs (GC, purge, scan all): `{schedule: {type, cron}, parameters}`.
 * Read-only fields Harbor's UI echoes back (id, status, next_scheduled_time) are ignored.
 */
export const scheduleBody = z.object({
  schedule: z.object({
    type: z.enum(scheduleTypes),
    cron: z.string().max(128).optional(),
  }),
  parameters: z.record(z.string(), z.unknown()).optional(),
});
export type ScheduleBody = z.infer<typeof scheduleBody>;
