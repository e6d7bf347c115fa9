import { createHash } from 'node:crypto';
import { AppError } from '../../lib/errors.js';

/** An icon as Harbor's getIcon answers it. */
export interface Icon {
  contentType: string;
  /** base64 of the image bytes. */
  content: string;
}

/** Berth's own drawings, one per artifact type Harbor gives an icon: a badge in the type's colour. */
const badges: Record<string, { label: string; colour: string }> = {
  IMAGE: { label: 'IMG', colour: '#0072a3' },
  CHART: { label: 'HELM', colour: '#0f1689' },
  CNAB: { label: 'CNAB', colour: '#5a3ea6' },
  WASM: { label: 'WASM', colour: '#654ff0' },
  SBOM: { label: 'SBOM', colour: '#2f8132' },
  MODEL: { label: 'AI', colour: '#c25400' },
  DEFAULT: { label: '?', colour: '#6b7280' },
};

function svg(label: string, colour: string): string {
  const size = label.length > 3 ? 13 : 16;
  return (
    '<svg xmlns="http://www.w3.org/2000/svg" width="50" height="50" viewBox="0 0 50 50">' +
    `<rect x="1" y="1" width="48" height="48" rx="9" fill="${colour}"/>` +
    `<text x="25" y="30" font-family="sans-serif" font-size="${size}" font-weight="700" fill="#fff" ` +
    `text-anchor="middle">${label}</text></svg>`
  );
}

interface Built {
  byType: Map<string, string>;
  byDigest: Map<string, Icon>;
}

let built: Built | undefined;

/** Content-addressed like Harbor's: the digest is the sha256 of the bytes served. Built on first use. */
function icons(): Built {
  if (built) return built;
  built = { byType: new Map(), byDigest: new Map() };
  for (const [type, { label, colour }] of Object.entries(badges)) {
    const bytes = Buffer.from(svg(label, colour));
    const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    built.byType.set(type, digest);
    built.byDigest.set(digest, { contentType: 'image/svg+xml', content: bytes.toString('base64') });
  }
  return built;
}

/** The icon digest an artifact of this type shows (Harbor: the type's built-in icon, else the default). */
export function iconDigestOf(type: string): string {
  const { byType } = icons();
  return byType.get(type) ?? byType.get('DEFAULT')!;
}

/** Harbor's getIcon: NOT_FOUND for a digest that names no icon. */
export function artifactIcon(digest: string): Icon {
  const icon = icons().byDigest.get(digest);
  if (!icon) throw new AppError('NOT_FOUND', `the icon ${digest} not found`);
  return icon;
}
