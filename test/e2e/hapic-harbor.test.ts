// Harbor's npm client @hapic/harbor (2.5.6, on hapic 2.8.2), written by others for Harbor, drives Berth:
// create a project, push with real skopeo (hapic sends nested repository names unencoded, which Harbor
// itself cannot route, so the repository here has one path segment), list repositories and artifacts, delete. Plus the curl calls
// Harbor's guides show, verbatim.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { HarborClient } from '@hapic/harbor';
import { backends, startBerth, testAdmin, type RunningBerth } from '../helpers/berth.js';
import { containerTools, type ContainerTools } from '../helpers/containers.js';
import { run } from '../helpers/exec.js';
import { OciLayout, tempDir } from '../helpers/images.js';
import { needTools } from '../helpers/tools.js';

/** Credentials the clients send; Berth ignores them until access control lands, then the admin's. */
const admin = { user: testAdmin.username, password: testAdmin.password };

for (const backend of backends()) {
  describe(`@hapic/harbor and Harbor-guide curl calls against Berth (${backend})`, () => {
    let berth: RunningBerth;
    let tools: ContainerTools;
    let work: string;
    let harbor: HarborClient;

    before(async () => {
      berth = await startBerth({ backend });
      tools = containerTools();
      work = tempDir('hapic');
      harbor = new HarborClient({
        connectionOptions: { host: `${berth.url}/api/v2.0/`, user: admin.user, password: admin.password },
      });
    });
    after(async () => {
      await berth?.close();
      tools?.close();
      if (work) rmSync(work, { recursive: true, force: true });
    });

    it('creates a project, lists repositories and artifacts after a skopeo push, deletes', async (t) => {
      if (!needTools(t, 'skopeo')) return;
      const created = await harbor.project.create({ project_name: 'hapic', public: false });
      assert.equal(typeof created.id, 'number');
      const project = await harbor.project.getOne('hapic', true);
      assert.equal(project.name, 'hapic');
      assert.equal(project.project_id, created.id);

      const layout = new OciLayout(join(work, 'layout'));
      const built = layout.addImage({ tag: 'v1' });
      await tools.skopeo([
        'copy',
        '--dest-tls-verify=false',
        '--dest-creds',
        `${admin.user}:${admin.password}`,
        layout.ref('v1'),
        `docker://${berth.host}/hapic/app:v1`,
      ]);

      const projects = await harbor.project.getMany({ query: { name: 'hapic' } });
      assert.deepEqual(
        projects.data.map((p) => [p.name, p.repo_count]),
        [['hapic', 1]],
      );
      assert.equal(projects.meta.total, 1);

      const repos = await harbor.projectRepository.getMany({ projectName: 'hapic' });
      assert.deepEqual(
        repos.data.map((r) => [r.name, r.artifact_count]),
        [['hapic/app', 1]],
      );
      const repo = await harbor.projectRepository.getOne({ projectName: 'hapic', repositoryName: 'app' });
      assert.equal(repo.name, 'hapic/app');

      const artifacts = await harbor.projectRepositoryArtifact.getMany({
        projectName: 'hapic',
        repositoryName: 'app',
        query: { with_tag: true },
      });
      assert.deepEqual(
        artifacts.map((a) => [a.digest, a.type, a.tags?.map((tag) => tag.name)]),
        [[built.manifest.digest, 'IMAGE', ['v1']]],
      );

      const found = await harbor.search('app');
      assert.deepEqual(
        found.repository.map((r) => r.repository_name),
        ['hapic/app'],
      );

      await harbor.projectRepositoryArtifact.delete({
        projectName: 'hapic',
        repositoryName: 'app',
        tagOrDigest: 'v1',
      });
      assert.deepEqual(
        await harbor.projectRepositoryArtifact.getMany({ projectName: 'hapic', repositoryName: 'app' }),
        [],
      );
      await harbor.projectRepository.delete({ projectName: 'hapic', repositoryName: 'app' });
      await harbor.project.delete('hapic', true);
      await assert.rejects(harbor.project.getOne('hapic', true));
    });

    it('answers the curl calls of Harbor guides verbatim', async (t) => {
      if (!needTools(t, 'curl', 'skopeo')) return;
      const layout = new OciLayout(join(work, 'curl'));
      layout.addImage({ tag: 'latest' });
      await tools.skopeo([
        'copy',
        '--dest-tls-verify=false',
        '--dest-creds',
        `${admin.user}:${admin.password}`,
        layout.ref('latest'),
        `docker://${berth.host}/library/nginx:latest`,
      ]);
      const curl = async (path: string, ...extra: string[]) => {
        const { stdout } = await run('curl', [
          '-s',
          '-S',
          '-f',
          '-X',
          'GET',
          `${berth.url}${path}`,
          '-H',
          'accept: application/json',
          ...extra,
        ]);
        return JSON.parse(stdout) as unknown;
      };
      const auth = ['-u', `${admin.user}:${admin.password}`];
      const projects = (await curl('/api/v2.0/projects', ...auth)) as { name: string }[];
      assert.ok(projects.some((p) => p.name === 'library'));
      const arts = (await curl('/api/v2.0/projects/library/repositories/nginx/artifacts', ...auth)) as {
        tags: { name: string }[];
      }[];
      assert.deepEqual(
        arts.map((a) => a.tags.map((x) => x.name)),
        [['latest']],
      );
      const info = (await curl('/api/v2.0/systeminfo', ...auth)) as {
        harbor_version: string;
        auth_mode: string;
      };
      assert.match(info.harbor_version, /berth/);
      assert.equal(info.auth_mode, 'db_auth');
    });
  });
}
