/** The emulator's signature functions reproduce Alibaba's published test vectors (request signatures, docs/architecture.md#sources). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  acs3CanonicalRequest,
  acs3Encode,
  acs3Signature,
  parseAcs3Authorization,
  rpcSignature,
  sha256Hex,
} from '../../../../emulators/eci/signing.js';

const V3 = {
  method: 'POST',
  pathname: '/',
  query: { ImageId: 'win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd', RegionId: 'cn-shanghai' },
  headers: {
    host: 'ecs.cn-shanghai.aliyuncs.com',
    'x-acs-action': 'RunInstances',
    'x-acs-content-sha256': 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    'x-acs-date': '2023-10-26T09:01:01Z',
    'x-acs-signature-nonce': 'd410180a5abf7fe235dd9b74aca91fc0',
    'x-acs-version': '2014-05-26',
  },
  signedHeaders: ['host', 'x-acs-action', 'x-acs-content-sha256', 'x-acs-date', 'x-acs-signature-nonce', 'x-acs-version'],
  hashedPayload: sha256Hex(''),
};

const V1 = {
  AccessKeyId: 'testid',
  Action: 'DescribeRegions',
  Format: 'XML',
  SignatureMethod: 'HMAC-SHA1',
  SignatureNonce: '3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf',
  SignatureVersion: '1.0',
  Timestamp: '2016-02-23T12:46:24Z',
  Version: '2014-05-26',
};

describe('ACS3-HMAC-SHA256', () => {
  it('reproduces the published test vector', () => {
    assert.equal(acs3Signature(V3, 'YourAccessKeySecret'), 'e521358f7776c97df52e6b2891a8bc73026794a071b50c3323388c4e0df64804');
  });

  it('changes when any signed input changes', () => {
    const base = acs3Signature(V3, 'YourAccessKeySecret');
    assert.notEqual(acs3Signature({ ...V3, query: { ...V3.query, RegionId: 'cn-beijing' } }, 'YourAccessKeySecret'), base);
    assert.notEqual(acs3Signature({ ...V3, headers: { ...V3.headers, host: 'other' } }, 'YourAccessKeySecret'), base);
    assert.notEqual(acs3Signature(V3, 'other-secret'), base);
  });

  it('builds the canonical request with sorted keys, strict encoding and a blank line after the headers', () => {
    const canon = acs3CanonicalRequest({ ...V3, query: { b: "x y!'()*", a: '1' } });
    const lines = canon.split('\n');
    assert.equal(lines[0], 'POST');
    assert.equal(lines[2], 'a=1&b=x%20y%21%27%28%29%2A');
    assert.equal(lines[9], '');
    assert.equal(lines[10], V3.signedHeaders.join(';'));
    assert.equal(acs3Encode('~-_.'), '~-_.');
  });

  it('parses an Authorization header and refuses a malformed one', () => {
    const parsed = parseAcs3Authorization('ACS3-HMAC-SHA256 Credential=AK,SignedHeaders=host;x-acs-date,Signature=abc');
    assert.deepEqual(parsed, { credential: 'AK', signedHeaders: ['host', 'x-acs-date'], signature: 'abc' });
    assert.equal(parseAcs3Authorization('ACS3-HMAC-SHA256 Credential=AK'), undefined);
    assert.equal(parseAcs3Authorization('HMAC-SHA1 x'), undefined);
  });
});

describe('HMAC-SHA1 (V1)', () => {
  it('reproduces the classic documented example', () => {
    assert.equal(rpcSignature('GET', V1, 'testsecret'), 'OLeaidS1JvxuMvnyHOwuJ+uX5qY=');
  });

  it('ignores the Signature parameter itself and depends on the method', () => {
    assert.equal(rpcSignature('GET', { ...V1, Signature: 'anything' }, 'testsecret'), 'OLeaidS1JvxuMvnyHOwuJ+uX5qY=');
    assert.notEqual(rpcSignature('POST', V1, 'testsecret'), 'OLeaidS1JvxuMvnyHOwuJ+uX5qY=');
  });
});
