import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { backends } from '../../helpers/berth.js';
import { HarborApi } from '../../helpers/harbor-api.js';
import { makeImage, useBerth, type Manifest } from '../../helpers/registry-client.js';
import {
  ageArtifact,
  createRetention,
  decisionOf,
  retentionPolicy,
  runRetention,
  type RuleSpec,
} from '../../helpers/retention.js';
import { waitFor } from '../../helpers/wait.js';

for (const backend of backends()) {
  describe(`/api/v2.0 tag retention (${backend})`, () => {
    const fixture = useBerth(backend, { overrides: { jobs: { pollIntervalMs: 50 } } });
    const api = () => new HarborApi(fixture.berth.url);
    const project = async () => {
      const name = `ret${randomBytes(4).toString('hex')}`;
      return { name, id: await fixture.berth.createProject(name) };
    };
    /** Pushes a new image under `tags` (none: by digest only) and sets its push/pull age in days. */
    const seed = async (
      repo: string,
      tags: string[],
      age: { pushedDaysAgo?: number; pulledDaysAgo?: number | null } = {},
    ): Promise<Manifest> => {
      const image = makeImage({ layerSize: 64 });
      await fixture.client.pushImage(repo, image, tags[0]);
      for (const t of tags.slice(1)) await fixture.client.putManifest(repo, image, t);
      if (age.pushedDaysAgo !== undefined || age.pulledDaysAgo !== undefined)
        await ageArtifact(fixture.berth.databaseUrl, image.digest, age);
      return image;
    };
    const artifactDigests = async (projectName: string, repo: string) =>
      (
        await api().expect<{ digest: string }[]>(
          200,
          'GET',
          `/projects/${projectName}/repositories/${encodeURIComponent(repo.slice(projectName.length + 1))}/artifacts?page_size=100`,
        )
      ).body
        .map((a) => a.digest)
        .sort();

    it('lists the rule templates and selectors Harbor lists, to signed-in callers', async () => {
      const res = await api().expect<{
        templates: { rule_template: string; params: { unit: string }[] }[];
        scope_selectors: { decorations: string[] }[];
        tag_selectors: { decorations: string[] }[];
      }>(200, 'GET', '/retentions/metadatas');
      assert.deepEqual(
        res.body.templates.map((t) => t.rule_template),
        ['latestPushedK', 'latestPulledN', 'nDaysSinceLastPush', 'nDaysSinceLastPull', 'always'],
      );
      assert.equal(res.body.templates[0]!.params[0]!.unit, 'COUNT');
      assert.deepEqual(res.body.scope_selectors[0]!.decorations, ['repoMatches', 'repoExcludes']);
      assert.deepEqual(res.body.tag_selectors[0]!.decorations, ['matches', 'excludes']);
      await api().anonymous().expectError(401, 'UNAUTHORIZED', 'GET', '/retentions/metadatas');
    });

    it('creates, reads, updates and deletes a policy, keeping the project retention_id', async () => {
      const p = await project();
      const id = await createRetention(api(), p.id, [{ template: 'latestPushedK', n: 3 }]);
      const meta = await api().expect<Record<string, string>>(200, 'GET', `/projects/${p.name}/metadatas/`);
      assert.equal(meta.body.retention_id, String(id));
      const got = await api().expect<{ id: number; rules: { template: string; params: object }[] }>(
        200,
        'GET',
        `/retentions/${id}`,
      );
      assert.equal(got.body.id, id);
      assert.deepEqual(got.body.rules[0]!.params, { latestPushedK: 3 });
      const again = await api().expectError(
        400,
        'BAD_REQUEST',
        'POST',
        '/retentions',
        retentionPolicy(p.id, []),
      );
      assert.match(again, new RegExp(`project ${p.id} already has retention policy ${id}`));

      await api().expect(
        200,
        'PUT',
        `/retentions/${id}`,
        retentionPolicy(p.id, [{ template: 'always' }], '0 0 2 * * *'),
      );
      const updated = await api().expect<{
        rules: { template: string }[];
        trigger: { settings: { cron: string } };
      }>(200, 'GET', `/retentions/${id}`);
      assert.equal(updated.body.rules[0]!.template, 'always');
      assert.equal(updated.body.trigger.settings.cron, '0 0 2 * * *');

      const other = await project();
      const moved = await api().expectError(
        400,
        'BAD_REQUEST',
        'PUT',
        `/retentions/${id}`,
        retentionPolicy(other.id, []),
      );
      assert.match(moved, /scope\.ref/);

      await api().expect(200, 'DELETE', `/retentions/${id}`);
      await api().expectError(404, 'NOT_FOUND', 'GET', `/retentions/${id}`);
      const after = await api().expect<Record<string, string>>(200, 'GET', `/projects/${p.name}/metadatas/`);
      assert.equal(after.body.retention_id, undefined);
    });

    it('refuses bad input with 400 naming the field', async () => {
      const p = await project();
      const cases: [object, RegExp][] = [
        [retentionPolicy(p.id, [{ template: 'latestFoo', n: 1 }]), /rules\[0\]\.template: .*latestFoo/],
        [
          retentionPolicy(p.id, [{ template: 'latestPushedK', n: 1, tags: 'v[1' }]),
          /rules\[0\]\.tag_selectors\[0\]\.pattern: malformed/,
        ],
        [
          retentionPolicy(p.id, [{ template: 'always', repos: '{a,b' }]),
          /rules\[0\]\.scope_selectors\.repository\[0\]\.pattern/,
        ],
        [
          retentionPolicy(p.id, [{ template: 'latestPushedK' }]),
          /rules\[0\]\.params\.latestPushedK: missing required parameter/,
        ],
        [
          retentionPolicy(p.id, [{ template: 'nDaysSinceLastPush', n: -1 }]),
          /rules\[0\]\.params\.nDaysSinceLastPush: .*less than zero/,
        ],
        [retentionPolicy(p.id, [{ template: 'always' }], '0 0 * *'), /trigger\.settings\.cron: invalid cron/],
        [retentionPolicy(p.id, [{ template: 'always' }], '61 * * * * *'), /trigger\.settings\.cron/],
        [retentionPolicy(999_999, [{ template: 'always' }]), /scope\.ref: invalid Project id 999999/],
        [{ ...retentionPolicy(p.id, []), algorithm: 'and' }, /algorithm/],
        [{ ...retentionPolicy(p.id, []), scope: { level: 'system', ref: 0 } }, /scope\.level/],
        [
          retentionPolicy(
            p.id,
            Array.from({ length: 16 }, (_, i) => ({ template: 'latestPushedK', n: i })),
          ),
          /rules: only 15 rules/,
        ],
      ];
      for (const [body, message] of cases) {
        const text = await api().expectError(400, 'BAD_REQUEST', 'POST', '/retentions', body);
        assert.match(text, message);
      }
      const dup = retentionPolicy(p.id, [{ template: 'always' }, { template: 'always' }]);
      await api().expectError(409, 'CONFLICT', 'POST', '/retentions', dup);
      const meta = await api().expect<Record<string, string>>(200, 'GET', `/projects/${p.name}/metadatas/`);
      assert.equal(meta.body.retention_id, undefined, 'a refused policy leaves no retention_id');
    });

    it('applies every rule template and selector form; a dry run removes nothing and a run removes exactly its list', async () => {
      const p = await project();
      const r = (name: string) => `${p.name}/${name}`;
      const rules: RuleSpec[] = [
        { template: 'latestPushedK', n: 1, repos: 'pushk' },
        { template: 'latestPulledN', n: 1, repos: 'pulln' },
        { template: 'nDaysSinceLastPush', n: 10, repos: 'pushdays' },
        { template: 'nDaysSinceLastPull', n: 10, repos: 'pulldays' },
        { template: 'always', tags: 'v*.*.*', untagged: false, repos: 'always' },
        { template: 'latestActiveK', n: 1, repos: 'activek' },
        { template: 'lastXDays', n: 10, repos: 'lastx' },
        { template: 'always', decoration: 'excludes', tags: 'dev-*', repos: 'excl' },
        // Chooses no repository here: every one is excluded, so skipme (chosen by no rule) gets no task.
        {
          template: 'always',
          repos: '{pushk,pulln,pushdays,pulldays,always,activek,lastx,excl,skip*}',
          repoDecoration: 'repoExcludes',
        },
      ];
      const a = {
        pushk: [
          await seed(r('pushk'), ['a'], { pushedDaysAgo: 3 }),
          await seed(r('pushk'), ['b'], { pushedDaysAgo: 2 }),
          await seed(r('pushk'), ['c'], { pushedDaysAgo: 1 }),
        ],
        pulln: [
          await seed(r('pulln'), ['a'], { pulledDaysAgo: 5 }),
          await seed(r('pulln'), ['b'], { pulledDaysAgo: 1 }),
          await seed(r('pulln'), ['c'], { pulledDaysAgo: null }),
        ],
        pushdays: [
          await seed(r('pushdays'), ['a'], { pushedDaysAgo: 20 }),
          await seed(r('pushdays'), ['b'], { pushedDaysAgo: 5 }),
        ],
        pulldays: [
          await seed(r('pulldays'), ['a'], { pulledDaysAgo: 20 }),
          await seed(r('pulldays'), ['b'], { pulledDaysAgo: 5 }),
          await seed(r('pulldays'), ['c'], { pulledDaysAgo: null }),
        ],
        always: [
          await seed(r('always'), ['v1.2.3', 'x']),
          await seed(r('always'), ['latest']),
          await seed(r('always'), []),
        ],
        activek: [
          await seed(r('activek'), ['a'], { pushedDaysAgo: 10, pulledDaysAgo: 1 }),
          await seed(r('activek'), ['b'], { pushedDaysAgo: 2, pulledDaysAgo: null }),
        ],
        lastx: [
          await seed(r('lastx'), ['a'], { pushedDaysAgo: 11 }),
          await seed(r('lastx'), ['b'], { pushedDaysAgo: 9 }),
        ],
        excl: [
          await seed(r('excl'), ['dev-1']),
          await seed(r('excl'), ['prod-1']),
          await seed(r('excl'), []),
        ],
      };
      await seed(r('skipme'), ['z']);
      // What each repository keeps: true = retained.
      const expected: Record<keyof typeof a, boolean[]> = {
        pushk: [false, false, true],
        pulln: [false, true, false],
        pushdays: [false, true],
        pulldays: [false, true, false],
        always: [true, false, false],
        activek: [true, false],
        lastx: [false, true],
        excl: [false, true, true],
      };
      const id = await createRetention(api(), p.id, rules);
      const before = new Map<string, string[]>();
      for (const name of Object.keys(a)) before.set(name, await artifactDigests(p.name, r(name)));

      const dry = await runRetention(api(), id, true);
      assert.equal(dry.execution.status, 'Success');
      assert.equal(dry.execution.dry_run, true);
      assert.deepEqual(
        dry.tasks.map((t) => t.repository).sort(),
        Object.keys(a).map(r).sort(),
        'one task per selected repository; skipme is excluded',
      );
      const wouldRemove = new Set<string>();
      for (const [name, images] of Object.entries(a) as [keyof typeof a, Manifest[]][]) {
        const log = dry.logs.get(r(name))!;
        images.forEach((img, i) => {
          const d = decisionOf(log, img.digest);
          assert.equal(d.mark, expected[name][i] ? 'RETAIN' : 'DEL', `${name}[${i}] in dry run: ${d.why}`);
          if (d.mark === 'RETAIN') assert.match(d.why, /^rule \d+: retain /);
          else wouldRemove.add(img.digest);
        });
        const task = dry.tasks.find((t) => t.repository === r(name))!;
        assert.equal(task.total, images.length);
        assert.equal(task.retained, expected[name].filter(Boolean).length);
        assert.deepEqual(
          await artifactDigests(p.name, r(name)),
          before.get(name),
          `dry run removed nothing from ${name}`,
        );
      }

      const real = await runRetention(api(), id, false);
      assert.equal(real.execution.status, 'Success');
      assert.equal(real.execution.dry_run, false);
      const removed = new Set<string>();
      for (const [name, images] of Object.entries(a) as [keyof typeof a, Manifest[]][]) {
        const left = await artifactDigests(p.name, r(name));
        for (const img of images) if (!left.includes(img.digest)) removed.add(img.digest);
        assert.match(real.logs.get(r(name))!, /artifact\(s\) removed/);
      }
      assert.deepEqual(
        [...removed].sort(),
        [...wouldRemove].sort(),
        'the run removed exactly what the dry run listed',
      );
      assert.equal((await artifactDigests(p.name, r('skipme'))).length, 1);
    });

    it("keeps the guides' policy: latest 10, pushed within 30 days, releases v*.*.*, untagged for 7 days", async () => {
      const p = await project();
      const repo = `${p.name}/web`;
      const release = await seed(repo, ['v1.0.0'], { pushedDaysAgo: 400 });
      const feature = await seed(repo, ['feature-x'], { pushedDaysAgo: 40 });
      const freshUntagged = await seed(repo, [], { pushedDaysAgo: 3 });
      const oldUntagged = await seed(repo, [], { pushedDaysAgo: 9 });
      const id = await createRetention(api(), p.id, [
        { template: 'latestPushedK', n: 10, untagged: false },
        { template: 'nDaysSinceLastPush', n: 30, untagged: false },
        { template: 'always', tags: 'v*.*.*', untagged: false },
        { template: 'nDaysSinceLastPush', n: 7, decoration: 'excludes', untagged: false },
      ]);
      const run = await runRetention(api(), id, false);
      const log = run.logs.get(repo)!;
      assert.equal(decisionOf(log, release.digest).mark, 'RETAIN');
      assert.equal(decisionOf(log, feature.digest).mark, 'RETAIN');
      assert.equal(decisionOf(log, freshUntagged.digest).mark, 'RETAIN');
      assert.match(decisionOf(log, freshUntagged.digest).why, /rule 4/);
      assert.equal(decisionOf(log, oldUntagged.digest).mark, 'DEL');
      assert.deepEqual(
        await artifactDigests(p.name, repo),
        [release.digest, feature.digest, freshUntagged.digest].sort(),
      );
    });

    it('never removes an artifact with an immutable tag (log says IMMUTABLE); a run drops quota usage at once and audits each removal', async () => {
      const p = await project();
      const repo = `${p.name}/app`;
      const kept = await seed(repo, ['keep']);
      const frozen = await seed(repo, ['v1']);
      const gone = await seed(repo, ['old']);
      await api().expect(201, 'POST', `/projects/${p.id}/immutabletagrules`, {
        disabled: false,
        action: 'immutable',
        template: 'immutable_template',
        priority: 0,
        tag_selectors: [{ kind: 'doublestar', decoration: 'matches', pattern: 'v*' }],
        scope_selectors: { repository: [{ kind: 'doublestar', decoration: 'repoMatches', pattern: '**' }] },
      });
      const used = async () =>
        (
          await api().expect<{ used: { storage: number } }[]>(
            200,
            'GET',
            `/quotas?reference=project&reference_id=${p.id}`,
          )
        ).body[0]!.used.storage;
      const before = await used();
      const id = await createRetention(api(), p.id, [{ template: 'always', tags: 'keep' }]);

      const dry = await runRetention(api(), id, true);
      assert.equal(decisionOf(dry.logs.get(repo)!, frozen.digest).mark, 'IMMUTABLE');
      assert.equal(decisionOf(dry.logs.get(repo)!, gone.digest).mark, 'DEL');
      assert.equal(await used(), before, 'a dry run frees nothing');

      const run = await runRetention(api(), id, false);
      const log = run.logs.get(repo)!;
      assert.equal(decisionOf(log, kept.digest).mark, 'RETAIN');
      const held = decisionOf(log, frozen.digest);
      assert.equal(held.mark, 'IMMUTABLE');
      assert.match(held.why, /v1.*immutable/);
      assert.equal(decisionOf(log, gone.digest).mark, 'DEL');
      assert.deepEqual(await artifactDigests(p.name, repo), [kept.digest, frozen.digest].sort());
      const after = await used();
      assert.ok(after < before, `usage ${before} -> ${after}`);
      assert.ok(before - after >= 64, `usage dropped by the removed layer at least: ${before} -> ${after}`);

      type Log = { operation: string; resource_type: string; resource: string; username: string };
      const rows = await waitFor('the removal in the audit log', async () => {
        const { body } = await api().expect<Log[]>(
          200,
          'GET',
          `/audit-logs?q=resource_type%3Dartifact&page_size=100`,
        );
        const mine = body.filter((r) => r.operation === 'delete' && r.resource.startsWith(`${repo}@`));
        return mine.length > 0 ? mine : undefined;
      });
      assert.deepEqual(
        rows.map((r) => r.resource),
        [`${repo}@${gone.digest}`],
      );
      assert.equal(rows[0]!.username, 'admin');
    });

    it('fires on its cron schedule and stops an execution on request', async () => {
      const p = await project();
      await seed(`${p.name}/app`, ['a']);
      const res = await api().expect(
        201,
        'POST',
        '/retentions',
        retentionPolicy(p.id, [{ template: 'always' }], '* * * * * *'),
      );
      const id = Number(/\/(\d+)$/.exec(res.headers.get('location')!)![1]);
      const scheduled = await waitFor(
        'a scheduled execution',
        async () => {
          const list = await api().expect<{ trigger: string; dry_run: boolean; status: string }[]>(
            200,
            'GET',
            `/retentions/${id}/executions`,
          );
          return list.body.find((e) => e.trigger === 'SCHEDULE');
        },
        10_000,
      );
      assert.equal(scheduled.dry_run, false);
      await api().expect(200, 'PUT', `/retentions/${id}`, retentionPolicy(p.id, [{ template: 'always' }]));

      const started = await api().expect(201, 'POST', `/retentions/${id}/executions`, { dry_run: true });
      const eid = /\/(\d+)$/.exec(started.headers.get('location')!)![1];
      await api().expectError(400, 'BAD_REQUEST', 'PATCH', `/retentions/${id}/executions/${eid}`, {
        action: 'go',
      });
      await api().expect(200, 'PATCH', `/retentions/${id}/executions/${eid}`, { action: 'stop' });
      const ended = await waitFor('the stopped execution to end', async () => {
        const list = await api().expect<{ id: number; status: string }[]>(
          200,
          'GET',
          `/retentions/${id}/executions`,
        );
        const e = list.body.find((x) => x.id === Number(eid));
        return e && e.status !== 'Running' ? e : undefined;
      });
      assert.ok(['Stopped', 'Success'].includes(ended.status), ended.status);
      await api().expectError(404, 'NOT_FOUND', 'GET', `/retentions/${id}/executions/999999/tasks`);
    });
  });
}
