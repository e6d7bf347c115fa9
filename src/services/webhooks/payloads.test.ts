import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  cloudEventsPayload,
  defaultPayload,
  formatFor,
  goJson,
  replicationData,
  retentionData,
  slackPayload,
  type WebhookEvent,
} from './payloads.js';

// Harbor's own fixture (src/pkg/notifier/formats/cloudevents_test.go and default.go's comment).
const pulled: WebhookEvent = {
  type: 'PULL_ARTIFACT',
  occurAt: 1678082923,
  operator: 'admin',
  eventData: {
    resources: [
      {
        digest: 'sha256:dde8e930c7b6a490f728e66292bc9bce42efc9bbb5278bae40e4f30f6e00fe8c',
        tag: 'sha256:dde8e930c7b6a490f728e66292bc9bce42efc9bbb5278bae40e4f30f6e00fe8c',
        resource_url:
          'harbor.dev/library/busybox@sha256:dde8e930c7b6a490f728e66292bc9bce42efc9bbb5278bae40e4f30f6e00fe8c',
      },
    ],
    repository: {
      date_created: 1677053165,
      name: 'busybox',
      namespace: 'library',
      repo_full_name: 'library/busybox',
      repo_type: 'public',
    },
  },
};
const harborData =
  '{"resources":[{"digest":"sha256:dde8e930c7b6a490f728e66292bc9bce42efc9bbb5278bae40e4f30f6e00fe8c","tag":"sha256:dde8e930c7b6a490f728e66292bc9bce42efc9bbb5278bae40e4f30f6e00fe8c","resource_url":"harbor.dev/library/busybox@sha256:dde8e930c7b6a490f728e66292bc9bce42efc9bbb5278bae40e4f30f6e00fe8c"}],"repository":{"date_created":1677053165,"name":"busybox","namespace":"library","repo_full_name":"library/busybox","repo_type":"public"}}';

test("the Default payload is Harbor's Payload struct as Go marshals it", () => {
  const p = defaultPayload(pulled);
  assert.deepEqual(p.headers, { 'Content-Type': 'application/json' });
  assert.equal(
    p.body,
    `{"type":"PULL_ARTIFACT","occur_at":1678082923,"operator":"admin","event_data":${harborData}}`,
  );
});

test("CloudEvents carries Harbor's attributes and the event data unchanged", () => {
  const p = cloudEventsPayload(pulled, {
    projectId: 1,
    policyId: 3,
    requestId: 'mock-request-id',
    id: 'x-1',
  });
  assert.deepEqual(p.headers, { 'Content-Type': 'application/cloudevents+json' });
  assert.equal(
    p.body,
    '{"specversion":"1.0","id":"x-1","source":"/projects/1/webhook/policies/3","type":"harbor.artifact.pulled",' +
      `"datacontenttype":"application/json","time":"2023-03-06T06:08:43Z","operator":"admin","requestid":"mock-request-id","data":${harborData}}`,
  );
});

test('empty members are left out and HTML characters escaped, as encoding/json does', () => {
  const p = defaultPayload({
    type: 'QUOTA_EXCEED',
    occurAt: 1,
    operator: 'a<b>&c',
    eventData: {
      resources: [{ digest: 'sha256:x' }],
      repository: { name: 'n', namespace: 'p', repo_full_name: 'p/n', repo_type: 'private' },
      custom_attributes: { Details: 'd' },
    },
  });
  assert.equal(
    p.body,
    '{"type":"QUOTA_EXCEED","occur_at":1,"operator":"a\\u003cb\\u003e\\u0026c","event_data":{"resources":[{"digest":"sha256:x"}],' +
      '"repository":{"name":"n","namespace":"p","repo_full_name":"p/n","repo_type":"private"},"custom_attributes":{"Details":"d"}}}',
  );
  assert.equal(goJson({ s: '\u2028' }), '{"s":"\\u2028"}');
});

test("Slack's message puts the indented event data, quotes escaped, in a code block", () => {
  const p = slackPayload(pulled);
  assert.ok(p.body.startsWith('{\n\t"blocks": [\n\t\t{\n            "type": "section",'));
  assert.ok(p.body.includes('"text": "*event_type:* PULL_ARTIFACT"'));
  assert.ok(p.body.includes('<!date^1678082923^{date} at {time}|February 18th, 2014 at 6:39 AM PST>'));
  assert.ok(p.body.includes('"text": "*operator:* admin"'));
  assert.ok(
    p.body.includes('"text": "```{\n\t\\"resources\\": [\n\t\t{\n\t\t\t\\"digest\\": \\"sha256:dde8'),
  );
  assert.ok(p.body.endsWith('```"\n\t\t\t}\n\t\t}\n    ]}'));
});

test('an http target adds its auth header; a slack target ignores formats', () => {
  const where = { projectId: 1, policyId: 2 };
  const http = formatFor(
    {
      type: 'http',
      address: 'http://x',
      skip_cert_verify: false,
      auth_header: 'Bearer t',
      payload_format: 'Default',
    },
    pulled,
    where,
  );
  assert.equal(http.headers['Authorization'], 'Bearer t');
  const slack = formatFor({ type: 'slack', address: 'http://x', skip_cert_verify: false }, pulled, where);
  assert.equal(slack.headers['Authorization'], undefined);
});

test("TAG_RETENTION's event data is Harbor's Retention struct as Go marshals it, in every format", () => {
  const retention = retentionData({
    total: 3,
    retained: 1,
    hostname: 'harbor.dev',
    projectName: 'library',
    policyId: 7,
    repository: 'library/nested/app',
    rules: [
      {
        template: 'latestPushedK',
        params: { latestPushedK: 1 },
        tag_selectors: [{ kind: 'doublestar', decoration: 'matches', pattern: '**' }],
        scope_selectors: { repository: [{ kind: 'doublestar', decoration: 'repoMatches', pattern: '**' }] },
      },
      { template: 'always', params: {}, tag_selectors: [], scope_selectors: {} },
    ],
    deleted: [
      { digest: 'sha256:aa', tags: ['v1', 'old'] },
      { digest: 'sha256:bb', tags: [] },
    ],
  });
  const event: WebhookEvent = {
    type: 'TAG_RETENTION',
    occurAt: 1700000000,
    operator: 'admin',
    eventData: { retention },
  };
  const data =
    '{"retention":{"total":3,"retained":1,"harbor_hostname":"harbor.dev","project_name":"library","retention_policy_id":7,' +
    '"retention_rule":[{"template":"latestPushedK","params":{"latestPushedK":1},' +
    '"tag_selectors":[{"kind":"doublestar","decoration":"matches","pattern":"**","extras":""}],' +
    '"scope_selectors":{"repository":[{"kind":"doublestar","decoration":"repoMatches","pattern":"**","extras":""}]}},' +
    '{"template":"always"}],"result":"SUCCESS","deleted_artifact":[' +
    '{"type":"image","status":"SUCCESS","name_tag":"nested/app:v1","references":null},' +
    '{"type":"image","status":"SUCCESS","name_tag":"nested/app@sha256:bb","references":null}]}}';
  assert.equal(
    defaultPayload(event).body,
    `{"type":"TAG_RETENTION","occur_at":1700000000,"operator":"admin","event_data":${data}}`,
  );
  const ce = cloudEventsPayload(event, { projectId: 1, policyId: 2, requestId: 'r', id: 'i' });
  assert.equal(
    ce.body,
    '{"specversion":"1.0","id":"i","source":"/projects/1/webhook/policies/2","type":"harbor.tag_retention.finished",' +
      `"datacontenttype":"application/json","time":"2023-11-14T22:13:20Z","operator":"admin","requestid":"r","data":${data}}`,
  );
  const slack = slackPayload(event).body;
  assert.ok(slack.includes('"text": "*event_type:* TAG_RETENTION"'));
  assert.ok(slack.includes('```{\n\t\\"retention\\": {\n\t\t\\"total\\": 3,\n'));
});

test("REPLICATION's event data is Harbor's Replication struct: a failed pull task, empty members left out", () => {
  const data = replicationData({
    hostname: 'harbor.dev',
    status: 'Error',
    description: '',
    artifactType: 'image',
    authenticationType: 'basic',
    override: false,
    trigger: 'SCHEDULE',
    executionTimestamp: 1700000000,
    src: {
      registry_name: 'hub',
      registry_type: 'docker-hub',
      endpoint: 'https://hub.docker.com',
      namespace: 'library',
    },
    dest: { registry_type: 'harbor', endpoint: 'https://harbor.dev', namespace: 'mirror' },
    nameAndTag: 'app [2 item(s) in total]',
    references: ['v1', 'v2'],
    executionId: 4,
    taskId: 9,
  });
  assert.equal(
    defaultPayload({
      type: 'REPLICATION',
      occurAt: 1700000001,
      operator: '',
      eventData: { replication: data },
    }).body,
    '{"type":"REPLICATION","occur_at":1700000001,"operator":"","event_data":{"replication":{"harbor_hostname":"harbor.dev",' +
      '"job_status":"Error","artifact_type":"image","authentication_type":"basic","trigger_type":"SCHEDULE",' +
      '"execution_timestamp":1700000000,' +
      '"src_resource":{"registry_name":"hub","registry_type":"docker-hub","endpoint":"https://hub.docker.com","namespace":"library"},' +
      '"dest_resource":{"registry_type":"harbor","endpoint":"https://harbor.dev","namespace":"mirror"},' +
      '"failed_artifact":[{"type":"image","status":"Error","name_tag":"app [2 item(s) in total]","references":["v1","v2"]}],' +
      '"execution_id":4,"task_id":9}}}',
  );
});
