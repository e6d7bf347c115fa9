import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AppError } from '../lib/errors.js';
import { adapterTypes, createRemote, renderAdapterInfos, renderRegistryInfo } from './remotes.js';

describe('remote registry types', () => {
  it("offers Harbor's replication adapter types, sorted", () => {
    assert.deepEqual(adapterTypes(), [
      'ali-acr',
      'aws-ecr',
      'azure-acr',
      'docker-hub',
      'docker-registry',
      'github-ghcr',
      'gitlab',
      'google-gcr',
      'harbor',
      'huawei-SWR',
      'jfrog-artifactory',
      'quay',
    ]);
  });

  it('builds every type, each reporting its own type name in info()', async () => {
    for (const type of adapterTypes()) {
      const remote = createRemote({ type, url: 'https://registry.example.com' });
      try {
        assert.equal(remote.type, type);
        assert.equal(remote.info().type, type);
      } finally {
        await remote.close();
      }
    }
  });

  it('refuses an unknown type and lists the valid ones', () => {
    assert.throws(
      () => createRemote({ type: 'nexus', url: 'https://x' }),
      (err: unknown) =>
        err instanceof AppError &&
        err.code === 'BAD_REQUEST' &&
        /unknown registry type "nexus"; valid types: ali-acr, /.test(err.message),
    );
  });

  it("renders adapterinfos and registry info in Harbor's snake_case", () => {
    const infos = renderAdapterInfos() as Record<
      string,
      { endpoint_pattern: { endpoint_type: string }; credential_pattern: unknown }
    >;
    assert.equal(infos['docker-hub']?.endpoint_pattern.endpoint_type, 'EndpointPatternTypeFix');
    assert.deepEqual(infos['google-gcr']?.credential_pattern, {
      access_key_type: 'AccessKeyTypeFix',
      access_key_data: '_json_key',
      access_secret_type: 'AccessSecretTypeFile',
      access_secret_data: 'No Change',
    });
    assert.equal(infos['docker-registry'], undefined);
    const info = renderRegistryInfo(createRemote({ type: 'docker-registry', url: 'https://x' }).info());
    assert.deepEqual(Object.keys(info).sort(), [
      'description',
      'supported_copy_by_chunk',
      'supported_repository_path_component_type',
      'supported_resource_filters',
      'supported_triggers',
      'type',
    ]);
  });
});
