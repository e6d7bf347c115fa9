import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { backends, startBerth, type RunningBerth } from '../../helpers/berth.js';

for (const backend of backends()) {
  describe(`/api/v2.0 framework (${backend})`, () => {
    let berth: RunningBerth;
    before(async () => {
      berth = await startBerth({ backend });
    });
    after(() => berth.close());

    test('ping answers Pong as text', async () => {
      const res = await fetch(`${berth.url}/api/v2.0/ping`);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
      assert.equal(await res.text(), 'Pong');
      assert.match(res.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
    });

    test('an unknown endpoint answers 404 in Harbor error shape', async () => {
      const res = await fetch(`${berth.url}/api/v2.0/no-such-thing`);
      assert.equal(res.status, 404);
      const body = (await res.json()) as { errors: { code: string; message: string }[] };
      assert.equal(body.errors[0]?.code, 'NOT_FOUND');
      assert.match(body.errors[0]?.message ?? '', /no-such-thing/);
    });

    test('a malformed percent-encoding answers 400 in Harbor error shape', async () => {
      const res = await fetch(`${berth.url}/api/v2.0/projects/%zz`);
      assert.equal(res.status, 400);
      const body = (await res.json()) as { errors: { code: string }[] };
      assert.equal(body.errors[0]?.code, 'BAD_REQUEST');
    });

    test('swagger.json is an OpenAPI document listing the declared operations', async () => {
      const res = await fetch(`${berth.url}/api/v2.0/swagger.json`);
      assert.equal(res.status, 200);
      const doc = (await res.json()) as {
        openapi: string;
        paths: Record<string, Record<string, { operationId: string }>>;
      };
      assert.match(doc.openapi, /^3\./);
      assert.equal(doc.paths['/ping']?.get?.operationId, 'getPing');
    });
  });
}
