// Launchers for skopeo, podman and buildah with hermetic configuration: a temp dir holds their
// policy.json, registries.conf, storage.conf, image store, HOME and XDG_RUNTIME_DIR, so nothing on the
// host (or a previous run) changes what they do. Podman and buildah run as root on the vfs driver.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run, runFailing, type CommandFailed, type RunResult } from './exec.js';
import { tempDir } from './images.js';

export interface ContainerTools {
  /** The temp dir everything lives in (removed by `close`). */
  dir: string;
  /** Trust policy that accepts any image; pass as `--policy` / `--signature-policy`. */
  policy: string;
  skopeo(args: string[]): Promise<RunResult>;
  skopeoFails(args: string[]): Promise<CommandFailed>;
  /** podman with its own `--root`/`--runroot`, vfs, cgroupfs and file events. */
  podman(args: string[]): Promise<RunResult>;
  /** buildah with its own `--root`/`--runroot`, vfs, and chroot isolation. */
  buildah(args: string[]): Promise<RunResult>;
  /** Stores credentials for `host` in the tools' auth file (what `podman login` writes); null removes them. */
  login(host: string, creds: { username: string; password: string } | null): void;
  close(): void;
}

export function containerTools(): ContainerTools {
  const dir = tempDir('containers');
  const at = (...parts: string[]) => join(dir, ...parts);
  for (const sub of ['home', 'xdg', 'tmp']) mkdirSync(at(sub), { recursive: true, mode: 0o700 });
  const policy = at('policy.json');
  writeFileSync(policy, JSON.stringify({ default: [{ type: 'insecureAcceptAnything' }] }));
  // No search registries: every reference in the tests is fully qualified.
  writeFileSync(at('registries.conf'), 'unqualified-search-registries = []\n');
  writeFileSync(
    at('storage.conf'),
    `[storage]\ndriver = "vfs"\ngraphroot = "${at('root')}"\nrunroot = "${at('runroot')}"\n`,
  );
  writeFileSync(at('containers.conf'), '[engine]\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\n');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HOME: at('home'),
    XDG_RUNTIME_DIR: at('xdg'),
    TMPDIR: at('tmp'),
    CONTAINERS_REGISTRIES_CONF: at('registries.conf'),
    CONTAINERS_STORAGE_CONF: at('storage.conf'),
    CONTAINERS_CONF: at('containers.conf'),
    BUILDAH_ISOLATION: 'chroot',
    REGISTRY_AUTH_FILE: at('auth.json'),
  };
  const auths: Record<string, { auth: string }> = {};
  writeFileSync(at('auth.json'), JSON.stringify({ auths }));
  const storage = ['--root', at('root'), '--runroot', at('runroot'), '--storage-driver', 'vfs'];
  return {
    dir,
    policy,
    skopeo: (args) => run('skopeo', ['--policy', policy, ...args], { env }),
    skopeoFails: (args) => runFailing('skopeo', ['--policy', policy, ...args], { env }),
    podman: (args) =>
      run(
        'podman',
        [
          ...storage,
          '--cgroup-manager',
          'cgroupfs',
          '--events-backend',
          'file',
          '--tmpdir',
          at('tmp'),
          ...args,
        ],
        { env },
      ),
    buildah: (args) => run('buildah', [...storage, ...args], { env }),
    login: (host, creds) => {
      if (creds)
        auths[host] = { auth: Buffer.from(`${creds.username}:${creds.password}`).toString('base64') };
      else delete auths[host];
      writeFileSync(at('auth.json'), JSON.stringify({ auths }));
    },
    close: () => rmSync(dir, { recursive: true, force: true }),
  };
}
