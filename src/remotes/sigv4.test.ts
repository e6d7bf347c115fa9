import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { signV4 } from './sigv4.js';

// Vectors from AWS's Signature Version 4 test suite (aws-sig-v4-test-suite), credentials AKIDEXAMPLE.
const base = {
  region: 'us-east-1',
  service: 'service',
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
  date: new Date('2015-08-30T12:36:00Z'),
};

describe('AWS Signature Version 4', () => {
  it('signs get-vanilla as the test suite expects', () => {
    const h = signV4({
      ...base,
      method: 'GET',
      url: new URL('https://example.amazonaws.com/'),
      headers: {},
      body: '',
    });
    assert.equal(
      h.authorization,
      'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31',
    );
    assert.equal(h['x-amz-date'], '20150830T123600Z');
  });

  it('signs get-vanilla-query-order-key-case as the test suite expects', () => {
    const h = signV4({
      ...base,
      method: 'GET',
      url: new URL('https://example.amazonaws.com/?Param2=value2&Param1=value1'),
      headers: {},
      body: '',
    });
    assert.match(
      h.authorization!,
      /Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500$/,
    );
  });

  it('changes the signature when the body changes', () => {
    const a = signV4({
      ...base,
      method: 'POST',
      url: new URL('https://api.ecr.us-east-1.amazonaws.com/'),
      headers: {},
      body: '{}',
    });
    const b = signV4({
      ...base,
      method: 'POST',
      url: new URL('https://api.ecr.us-east-1.amazonaws.com/'),
      headers: {},
      body: '{"a":1}',
    });
    assert.notEqual(a.authorization, b.authorization);
  });
});
