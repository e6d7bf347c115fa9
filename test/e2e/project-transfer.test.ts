// `berth export`, `berth verify` and `berth import` between a SQLite Berth and a PostgreSQL one: images
// pushed with skopeo (tags, a multi-arch index, a referrer), labels, members, a robot and policies make
// the round trip identical; a killed export resumes; a flipped byte is refused by verify and by import.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, cpSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { BerthApp } from '../../src/app.js';
import { indexTarFile } from '../../src/lib/tar-file.js';
import { backends, startBerth, type RunningBerth } from '../helpers/berth.js';
import { containerTools, type ContainerTools } from '../helpers/containers.js';
import { run, runFailing } from '../helpers/exec.js';
import { HarborApi } from '../helpers/harbor-api.js';
import { OciLayout, ociMediaTypes, tempDir } from '../helpers/images.js';
import { retentionPolicy } from '../helpers/retention.js';
import { needTools } from '../helpers/tools.js';
import { seedUser } from '../helpers/users.js';

const mainTs = fileURLToPath(new URL('../../src/main.ts', import.meta.url));
const berthCli = (args: string[]) =>
  run(process.execPath, ['--import', 'tsx', mainTs, ...args], { timeout: 180_000 });
const berthCliFailing = (args: string[]) =>
  runFailing(process.execPath, ['--import', 'tsx', mainTs, ...args], { timeout: 180_000 });
const lines = (stdout: string) =>
  stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown> & { event: string });

function flipped(bytes: Buffer, at: number): Buffer {
  bytes.writeUInt8(bytes.readUInt8(at) ^ 0xff, at);
  return bytes;
}

/** Everything a project export carries, read from the store, without ids or times. */
async function snapshot(app: BerthApp, project: string) {
  const s = app.store;
  const row = (await s.projects.findByName(project))!;
  const repos = [];
  for (const repo of await s.projectTransfer.repositories(row.id)) {
    const rows = await s.projectTransfer.artifacts(repo.id);
    const ids = [...new Set(rows.map((r) => r.id))];
    const labels = await s.labels.ofArtifacts(ids);
    repos.push({
      name: repo.name.slice(project.length + 1),
      artifacts: ids
        .map((id) => ({
          digest: rows.find((r) => r.id === id)!.digest,
          mediaType: rows.find((r) => r.id === id)!.media_type,
          tags: rows.filter((r) => r.id === id && r.tag !== null).map((r) => r.tag),
          labels: (labels.get(id) ?? []).map((l) => `${l.scope}:${l.name}`),
        }))
        .sort((a, b) => a.digest.localeCompare(b.digest)),
    });
  }
  const metadata = { ...(await s.projectCatalog.metadata([row.id])).get(row.id) };
  delete metadata.retention_id;
  const retention = await s.retention.findPolicyOfProject(row.id);
  const robots = await s.projectTransfer.projectRobots(row.id);
  return {
    public: row.public,
    metadata,
    quota: (await s.projectCatalog.quotaRows([row.id])).get(row.id)?.hard_storage,
    repos,
    members: (await s.members.list(row.id, { offset: 0, limit: 100 })).rows
      .map((m) => `${m.entity_type}:${m.entity_name}:${m.role_id}`)
      .sort(),
    robots: await Promise.all(
      robots.map(async (r) => ({
        name: r.name.slice(project.length + 1),
        permissions: (await s.robots.permissions(r.id)).map((p) => `${p.resource}:${p.action}`).sort(),
      })),
    ),
    immutability: (await s.immutableRules.ofProject(row.id)).map((r) => [
      r.template,
      r.tag_selectors,
      r.scope_selectors,
    ]),
    retention: retention ? [retention.rules, retention.trigger] : null,
  };
}

describe('project export and import', () => {
  let source: RunningBerth;
  let target: RunningBerth;
  let tools: ContainerTools;
  let work: string;
  let api: HarborApi;
  let targetArgs: string[];
  const targetBackend = backends().includes('postgres') ? 'postgres' : 'sqlite';

  before(async () => {
    source = await startBerth({ backend: 'sqlite' });
    target = await startBerth({ backend: targetBackend });
    work = tempDir('transfer');
    const config = join(work, 'target.yaml');
    writeFileSync(config, `database:\n  url: ${target.databaseUrl}\n`);
    targetArgs = ['--config', config, '--data', target.dataDir];
    api = new HarborApi(source.url);
    tools = containerTools();
    tools.login(source.host, source.admin);
  });
  after(async () => {
    await source?.close();
    await target?.close();
    tools?.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('moves a project from SQLite to PostgreSQL with every digest, tag, label, member and policy', async (t) => {
    if (!needTools(t, 'skopeo')) return;
    const created = await api.expect(201, 'POST', '/projects', {
      project_name: 'shop',
      metadata: { public: 'true', auto_scan: 'false', severity: 'high' },
      storage_limit: 1024 * 1024 * 1024,
    });
    const projectId = Number(created.headers.get('location')!.split('/').pop());
    // Seeded with skopeo: two tags on one image, a multi-arch index, and a referrer of the image.
    const layout = new OciLayout(join(work, 'seed'));
    const image = layout.addImage({
      tag: 'v1',
      layers: [[{ path: 'app/big.bin', content: randomBytes(12 << 20) }], [{ path: 'r' }]],
    });
    layout.tag('latest', image.manifest);
    layout.addIndex('multi', [
      { os: 'linux', architecture: 'amd64' },
      { os: 'linux', architecture: 'arm64', variant: 'v8' },
    ]);
    const sbom = layout.writeBlob('{"sbom":true}', 'application/vnd.example.sbom');
    const emptyConfig = layout.writeBlob('{}', 'application/vnd.oci.empty.v1+json');
    const referrer = layout.writeBlob(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: ociMediaTypes.manifest,
        artifactType: 'application/vnd.example.sbom',
        config: emptyConfig,
        layers: [sbom],
        subject: image.manifest,
      }),
      ociMediaTypes.manifest,
    );
    layout.tag('sbom', referrer);
    const push = (ref: string, dest: string, ...flags: string[]) =>
      tools.skopeo([
        'copy',
        '--dest-tls-verify=false',
        ...flags,
        layout.ref(ref),
        `docker://${source.host}/${dest}`,
      ]);
    await push('v1', 'shop/app:v1');
    await push('latest', 'shop/app:latest');
    await push('multi', 'shop/base/multi:1', '--all');
    await push('sbom', 'shop/app:sbom');

    await api.expect(201, 'POST', '/users', { username: 'alice', password: 'Alice-Pass1', email: 'a@x.io' });
    await seedUser(target.app.store, 'alice');
    await api.expect(201, 'POST', '/projects/shop/members', {
      role_id: 2,
      member_user: { username: 'alice' },
    });
    const label = await api.expect(201, 'POST', '/labels', {
      name: 'release',
      scope: 'p',
      project_id: projectId,
      color: '#00ff00',
    });
    const labelId = Number(label.headers.get('location')!.split('/').pop());
    await api.expect(200, 'POST', `/projects/shop/repositories/app/artifacts/v1/labels`, { id: labelId });
    await api.expect(201, 'POST', '/projects/shop/immutabletagrules', {
      action: 'immutable',
      template: 'immutable_template',
      tag_selectors: [{ kind: 'doublestar', decoration: 'matches', pattern: 'v*' }],
      scope_selectors: { repository: [{ kind: 'doublestar', decoration: 'repoMatches', pattern: '**' }] },
    });
    await api.expect(
      201,
      'POST',
      '/retentions',
      retentionPolicy(projectId, [{ template: 'latestPushedK', n: 5 }], '0 0 0 * * *'),
    );
    await api.expect(201, 'POST', '/robots', {
      name: 'ci',
      level: 'project',
      duration: 30,
      permissions: [
        {
          kind: 'project',
          namespace: 'shop',
          access: [
            { resource: 'repository', action: 'pull' },
            { resource: 'repository', action: 'push' },
          ],
        },
      ],
    });

    // A tar from the running SQLite Berth; the archive's app layout is an OCI layout skopeo reads.
    const tar = join(work, 'shop.tar');
    const exported = lines(
      (await berthCli(['export', 'shop', '--to', tar, '--data', source.dataDir])).stdout,
    );
    const done = exported.at(-1)!;
    assert.equal(done.event, 'exported');
    assert.equal(done.artifacts, 5, 'the image (two tags), its referrer, the index and its two children');
    assert.ok(exported.some((l) => l.event === 'progress' && l.phase === 'export'));
    const verified = lines((await berthCli(['verify', tar])).stdout).at(-1)!;
    assert.equal(verified.event, 'verified');

    const imported = lines((await berthCli(['import', tar, '--as', 'shop2', ...targetArgs])).stdout);
    const robot = imported.find((l) => l.event === 'robot')!;
    assert.equal(robot.name, 'robot$shop2+ci');
    assert.equal(imported.at(-1)!.event, 'imported');
    const before = await snapshot(source.app, 'shop');
    const afterImport = await snapshot(target.app, 'shop2');
    assert.deepEqual(afterImport, before);
    // The new robot's secret works: it pulls from the imported project.
    const pulled = await fetch(`${target.url}/v2/shop2/app/manifests/v1`, {
      headers: {
        accept: ociMediaTypes.manifest,
        authorization: `Basic ${Buffer.from(`${String(robot.name)}:${String(robot.secret)}`).toString('base64')}`,
      },
    });
    assert.equal(pulled.status, 200);
    assert.equal(pulled.headers.get('docker-content-digest'), image.manifest.digest);
    const audit = await new HarborApi(target.url).expect<{ operation: string; resource: string }[]>(
      200,
      'GET',
      '/audit-logs',
    );
    assert.ok(audit.body.some((r) => r.operation === 'import' && r.resource === 'shop2'));

    // The same archive again under the same name: a clear refusal; under another name, every blob is
    // already held and linked rather than written.
    const conflict = await berthCliFailing(['import', tar, '--as', 'shop2', ...targetArgs]);
    assert.match(
      conflict.stderr,
      /project shop2 already exists on this instance: import it under another name with --as/,
    );
    const again = lines((await berthCli(['import', tar, '--as', 'shop3', ...targetArgs])).stdout).at(-1)!;
    assert.ok(Number(again.deduplicated) > 0);

    // A folder target, imported under the exported name.
    const dir = join(work, 'shop-dir');
    await berthCli(['export', 'shop', '--to', dir, '--data', source.dataDir]);
    await tools.skopeo(['inspect', `oci:${join(dir, 'repositories', 'app')}:v1`]);
    await berthCli(['import', dir, ...targetArgs]);
    assert.deepEqual(await snapshot(target.app, 'shop'), before);
  });

  it('refuses a corrupted archive in verify and import, naming the digest', async (t) => {
    if (!needTools(t, 'skopeo')) return;
    const dir = join(work, 'corrupt');
    cpSync(join(work, 'shop-dir'), dir, { recursive: true, verbatimSymlinks: true });
    const m = JSON.parse(readFileSync(join(dir, 'berth-export.json'), 'utf8')) as {
      blobs: { digest: string; size: number }[];
    };
    const victim = m.blobs.reduce((a, b) => (b.size > a.size ? b : a));
    const file = join(dir, 'blobs', 'sha256', victim.digest.slice('sha256:'.length));
    writeFileSync(file, flipped(readFileSync(file), victim.size >> 1));
    const verify = await berthCliFailing(['verify', dir]);
    assert.match(verify.stderr, new RegExp(`blob ${victim.digest} is corrupt`));
    const imported = await berthCliFailing(['import', dir, '--as', 'broken', ...targetArgs]);
    assert.match(imported.stderr, new RegExp(`nothing imported: blob ${victim.digest} is corrupt`));
    assert.equal(await target.app.store.projects.findByName('broken'), undefined);
    // The same flip inside a tar.
    const tar = join(work, 'corrupt.tar');
    copyFileSync(join(work, 'shop.tar'), tar);
    const entry = (await indexTarFile(tar)).entries.find(
      (e) => e.name === `blobs/sha256/${victim.digest.slice(7)}`,
    )!;
    writeFileSync(tar, flipped(readFileSync(tar), entry.offset + 10));
    assert.match(
      (await berthCliFailing(['verify', tar])).stderr,
      new RegExp(`blob ${victim.digest} is corrupt`),
    );
  });

  it('resumes an export killed in the middle of a blob', async () => {
    const tar = join(work, 'resume.tar');
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', mainTs, 'export', 'shop', '--to', tar, '--data', source.dataDir],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    const exited = new Promise((resolve) => child.once('exit', resolve));
    // Killed once the tar holds part of the export: the 12 MiB layer is being written.
    for (;;) {
      const size = statSync(tar, { throwIfNoEntry: false })?.size ?? 0;
      if (size > 64 * 1024 || child.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 2));
    }
    child.kill('SIGKILL');
    await exited;
    const first = lines(out);
    assert.ok(!first.some((l) => l.event === 'exported'), 'the export must have been interrupted');
    const resumed = lines((await berthCli(['export', 'shop', '--to', tar, '--data', source.dataDir])).stdout);
    const lastProgress = resumed.filter((l) => l.event === 'progress').at(-1)!;
    assert.ok(Number(lastProgress.skipped) > 0, 'blobs written before the kill are kept');
    assert.ok(Number(lastProgress.skipped) < Number(lastProgress.totalBlobs));
    assert.equal(lines((await berthCli(['verify', tar])).stdout).at(-1)!.event, 'verified');
  });
});
