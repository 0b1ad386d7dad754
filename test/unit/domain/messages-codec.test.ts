import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  BodyCodecError,
  base64FromText,
  decodeBody,
  encodeBody,
  textFromBase64,
  utf8Length,
} from '../../../shared/domain/messages-codec.js';

describe('queue body codec', () => {
  it('round-trips JSON with XML-special characters and unicode through plain base64', () => {
    const value = { s: 'a & b < c > d ]]> "q" \'a\'', u: '中文 ü 🚀', n: [1, null, true] };
    const body = encodeBody(value);
    assert.match(body, /^[A-Za-z0-9+/]+=*$/);
    assert.equal(Buffer.from(body, 'base64').toString('utf8'), JSON.stringify(value));
    assert.deepEqual(decodeBody(body), value);
  });

  it('accepts a body EventBridge already decoded (JSON text)', () => {
    assert.deepEqual(decodeBody('{"k":"v"}'), { k: 'v' });
    assert.deepEqual(decodeBody('[1,2]'), [1, 2]);
  });

  it('handles large bodies (no argument-count limits)', () => {
    const text = '字'.repeat(100_000);
    assert.equal(textFromBase64(base64FromText(text)), text);
  });

  it('refuses bad base64, non-UTF-8 bytes and non-JSON', () => {
    assert.throws(() => decodeBody('%%%'), BodyCodecError);
    assert.throws(() => textFromBase64(Buffer.from([0xff, 0xfe]).toString('base64')), BodyCodecError);
    assert.throws(() => decodeBody(base64FromText('not json')), BodyCodecError);
  });

  it('counts UTF-8 bytes like Buffer.byteLength', () => {
    for (const s of ['', 'abc', 'é', '中文', '🚀x', '\uD800x']) assert.equal(utf8Length(s), Buffer.byteLength(s, 'utf8'), s);
  });
});
