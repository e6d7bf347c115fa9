import { randomUUID } from 'node:crypto';
import { hashSecret, randomPassword } from '../../../auth/passwords.js';
import type { MetaStore } from '../../../db/store.js';
import type { Clock } from '../../../lib/clock.js';
import type { ScanTarget } from '../scanner.js';

/** A robot account made for one scan: its id (to delete it), login name and secret. */
export interface ScanRobot {
  id: number;
  name: string;
  secret: string;
}

/** A leaked robot (a node that died mid-scan) stops working after a day; a scan ends within an hour. */
const lifetimeDays = 1;

/**
 * The credentials an external scanner adapter pulls the scanned artifact with, as Harbor's scan
 * controller makes them (makeRobotAccount): a project robot named `<registration>-<uuid>`, described
 * "for scan", granted `pull` and `scanner-pull` (which passes the vulnerability pull policy) on the
 * repositories of the artifact's project, and deleted when the scan ends, whatever its outcome.
 */
export class ScanRobots {
  constructor(
    private readonly d: {
      store: Pick<MetaStore, 'transaction'>;
      clock: Clock;
      /** `auth.robotPrefix` (`robot$`): the robot logs in as `robot$<project>+<name>`. */
      prefix: string;
    },
  ) {}

  async create(target: ScanTarget, registrationName: string): Promise<ScanRobot> {
    const project = target.repository.split('/')[0]!;
    // Harbor uses the registration's name as is; Basic credentials cannot hold a colon, so Berth keeps
    // the characters a robot name allows.
    const base = registrationName.toLowerCase().replace(/[^a-z0-9._-]+/g, '-');
    const stored = `${project}+${base}-${randomUUID()}`;
    const secret = randomPassword(32);
    const now = this.d.clock.now();
    const hash = await hashSecret(secret);
    const id = await this.d.store.transaction((tx) =>
      tx.robots.create(
        {
          name: stored,
          description: 'for scan',
          secret_hash: hash,
          level: 'project',
          project_id: target.projectId,
          disabled: 0,
          duration: lifetimeDays,
          expires_at: Math.floor(now.getTime() / 1000) + lifetimeDays * 86_400,
          creator_ref: '',
          creation_time: now.toISOString(),
          update_time: now.toISOString(),
        },
        ['pull', 'scanner-pull'].map((action) => ({
          kind: 'project' as const,
          namespace: project,
          resource: 'repository',
          action,
        })),
      ),
    );
    if (id === undefined) throw new Error(`could not create the scan's robot account ${stored}`);
    return { id, name: this.d.prefix + stored, secret };
  }

  async delete(robot: ScanRobot): Promise<void> {
    await this.d.store.transaction((tx) => tx.robots.delete(robot.id));
  }
}
