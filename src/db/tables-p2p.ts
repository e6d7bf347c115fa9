import type { Generated } from 'kysely';

// P2P preheat's tables, apart from tables.ts (at the file-length cap).

/** A P2P preheat provider instance (migration 0024). */
export interface P2pPreheatInstanceTable {
  id: Generated<number>;
  name: string;
  description: string;
  vendor: string; // 'dragonfly' or 'kraken'
  endpoint: string;
  auth_mode: string; // 'NONE', 'BASIC' or 'OAUTH'
  /** Sealed JSON of the auth_info map; '' without one. Never returned by the API. */
  auth_data: string;
  enabled: number;
  is_default: number;
  insecure: number;
  /** Seconds since the epoch (bigint: PostgreSQL answers it as a string). */
  setup_timestamp: number | string;
}

/** A project's P2P preheat policy; filters, trigger and extra_attrs as Harbor's JSON text. */
export interface P2pPreheatPolicyTable {
  id: Generated<number>;
  project_id: number;
  name: string;
  description: string;
  provider_id: number;
  filters: string;
  trigger: string;
  enabled: number;
  extra_attrs: string;
  creation_time: string;
  update_time: string;
}
