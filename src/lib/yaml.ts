import { createRequire } from 'node:module';

let yaml: typeof import('yaml') | undefined;

/**
 * YAML text → value. The `yaml` package (~85 modules) loads on the first call, not at start: a node
 * with no berth.yaml that never serves a chart's additions never holds it.
 */
export function parseYaml(text: string): unknown {
  yaml ??= createRequire(import.meta.url)('yaml') as typeof import('yaml');
  return yaml.parse(text);
}
