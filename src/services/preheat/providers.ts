/**
 * The P2P providers Berth can preheat through, as Harbor's drivers describe themselves
 * (pkg/p2p/preheat/provider: dragonfly.go, kraken.go), and what each asks of an instance.
 */
export interface ProviderMetadata {
  id: string;
  name: string;
  icon: string;
  version: string;
  source: string;
  maintainers: string[];
}

export interface ProviderDriverInfo {
  metadata: ProviderMetadata;
  /** Path under the instance endpoint answering 2xx while the instance is healthy. */
  healthPath: string;
}

export const providers: Record<'dragonfly' | 'kraken', ProviderDriverInfo> = {
  dragonfly: {
    metadata: {
      id: 'dragonfly',
      name: 'Dragonfly',
      icon: 'https://raw.githubusercontent.com/dragonflyoss/Dragonfly2/master/docs/images/logo/dragonfly-linear.png',
      version: '2.1.59',
      source: 'https://github.com/dragonflyoss/Dragonfly2',
      maintainers: ['chlins.zhang@gmail.com', 'gaius.qi@gmail.com'],
    },
    healthPath: '/healthy',
  },
  kraken: {
    metadata: {
      id: 'kraken',
      name: 'Kraken',
      icon: 'https://github.com/uber/kraken/blob/master/assets/kraken-logo-color.svg',
      version: '0.1.3',
      source: 'https://github.com/uber/kraken',
      maintainers: ['mmpei/peimingming@corp.netease.com'],
    },
    healthPath: '/health',
  },
};

export type Vendor = keyof typeof providers;

export function isVendor(v: string): v is Vendor {
  return Object.hasOwn(providers, v);
}

/** Request headers for an instance's auth mode (Harbor: NONE, BASIC with username/password, OAUTH with token). */
export function authHeaders(mode: string, info: Record<string, string>): Record<string, string> {
  if (mode === 'BASIC')
    return {
      authorization: `Basic ${Buffer.from(`${info.username ?? ''}:${info.password ?? ''}`).toString('base64')}`,
    };
  if (mode === 'OAUTH') return { authorization: `Bearer ${info.token ?? ''}` };
  return {};
}
