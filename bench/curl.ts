/**
 * Pulls through curl, a native client like the Go and C clients (containerd, docker, skopeo, podman) that
 * pull images in practice. The bench's own Node client (undici) tops out at about one core's worth of
 * reading on the bench machine, so a pull measured with it measures that client more than the server:
 * both servers then sit at the same rate, within noise. With curl the figure is the server's.
 */
import { execFile, spawnSync } from 'node:child_process';
import { benchAuthorization } from './berth-process.js';
import { manifestAccept, type PushedImage, type Target } from './client.js';

export const curlBinary = process.env.BENCH_CURL ?? 'curl';

/** Throws with what to install when curl is missing. */
export function requireCurl(): string {
  const r = spawnSync(curlBinary, ['--version'], { encoding: 'utf8' });
  if (r.status !== 0)
    throw new Error(`${curlBinary} not found: install Debian's curl package to run the pull workloads`);
  return r.stdout.split('\n')[0] ?? 'curl';
}

interface Transfer {
  status: number;
  bytes: number;
  seconds: number;
}

/** Runs one curl process over `urls` (one connection, in order); one line of figures per transfer. */
function curl(urls: string[]): Promise<Transfer[]> {
  const args = ['--silent', '--show-error', '--http1.1', '-H', `Authorization: ${benchAuthorization}`];
  args.push(
    '-H',
    `Accept: ${manifestAccept}`,
    '--write-out',
    '%{http_code} %{size_download} %{time_total}\\n',
  );
  for (const url of urls) args.push('--output', '/dev/null', url);
  return new Promise((resolve, reject) => {
    execFile(curlBinary, args, { encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`curl failed: ${stderr.trim() || err.message}`));
      const lines = stdout.trim().split('\n');
      if (lines.length !== urls.length)
        return reject(new Error(`curl reported ${lines.length} transfers of ${urls.length}`));
      resolve(
        lines.map((line) => {
          const [status, bytes, seconds] = line.split(' ').map(Number);
          return { status: status!, bytes: bytes!, seconds: seconds! };
        }),
      );
    });
  });
}

function check(what: string, t: Transfer, size?: number): void {
  if (t.status !== 200) throw new Error(`${what}: HTTP ${t.status}`);
  if (size !== undefined && t.bytes !== size) throw new Error(`${what}: got ${t.bytes} bytes of ${size}`);
}

/** GETs one blob on a fresh connection; the time is curl's, from connect to the last byte. */
export async function curlPullBlob(t: Target, repo: string, digest: string, size: number): Promise<Transfer> {
  const [res] = await curl([`${t.url}/v2/${repo}/blobs/${digest}`]);
  check(`GET blob ${digest}`, res!, size);
  return res!;
}

/** One client pulling an image: manifest by tag, config, then each layer, on one connection. Returns bytes. */
export async function curlPullImage(t: Target, img: PushedImage): Promise<number> {
  const base = `${t.url}/v2/${img.repo}`;
  const urls = [`${base}/manifests/${img.tag}`, `${base}/blobs/${img.configDigest}`];
  for (const l of img.layers) urls.push(`${base}/blobs/${l.digest}`);
  const res = await curl(urls);
  res.forEach((r, i) => check(`GET ${urls[i]}`, r, i >= 2 ? img.layers[i - 2]!.size : undefined));
  const bytes = res.reduce((s, r) => s + r.bytes, 0);
  if (bytes !== img.bytes) throw new Error(`image pull: got ${bytes} bytes of ${img.bytes}`);
  return bytes;
}
