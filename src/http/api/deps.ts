import type { Can } from './access.js';

/** What the /api/v2.0 surface needs: the services it calls and the one permission question. */
export interface ApiDeps {
  /** Berth's version, for swagger.json and systeminfo. */
  version: string;
  can: Can;
}
