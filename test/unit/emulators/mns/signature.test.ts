import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bodyMd5, contentMd5, sign, signString, stringToSign } from '../../../../emulators/mns/signature.js';
import { parseXml, XmlSyntaxError } from '../../../../emulators/mns/xml.js';

describe('MNS signature', () => {
  it('reproduces the documented example (secret TestAccessSecret, GET /MyQueue)', () => {
    // Prepare
    const headers = { Date: 'Thu, 09 Jul 2015 03:01:34 GMT', 'x-mns-version': '2015-06-06' };
    // Act
    const toSign = stringToSign('GET', headers, '/MyQueue');
    // Assess
    assert.equal(toSign, 'GET\n\n\nThu, 09 Jul 2015 03:01:34 GMT\nx-mns-version:2015-06-06\n/MyQueue');
    assert.equal(signString('TestAccessSecret', toSign), 'uwx3yeWoILzgmvesW0BQSgfM7b8=');
  });

  it('reproduces the Node-SDK-style POST vector (Content-MD5 as base64(hex(md5)), x-mns-date sorted in)', () => {
    const body =
      '<?xml version="1.0" encoding="UTF-8"?><Message xmlns="http://mns.aliyuncs.com/doc/v1/"><MessageBody>aGVsbG8=</MessageBody><DelaySeconds>0</DelaySeconds><Priority>8</Priority></Message>';
    const md5 = contentMd5(body);
    assert.equal(md5, 'ZjlhOTBmZjdiMTk2M2ZlNzk0NzIyMDQ4NWM0M2M1M2Q=');
    const date = 'Wed, 01 Jan 2025 00:00:00 GMT';
    const headers = { 'x-mns-version': '2015-06-06', 'content-type': 'text/xml', date, 'content-md5': md5, 'x-mns-date': date };
    assert.equal(sign('TestAccessSecret', 'POST', headers, '/queues/q1/messages'), 'pZ17adU9W0BC70AVlwUgxZfCuR8=');
  });

  it('signs the raw query and changes with any signed part', () => {
    const h = { date: 'Wed, 01 Jan 2025 00:00:00 GMT', 'x-mns-version': '2015-06-06' };
    const a = sign('s', 'GET', h, '/queues/q/messages?numOfMessages=16');
    assert.notEqual(a, sign('s', 'GET', h, '/queues/q/messages?numofmessages=16'));
    assert.notEqual(a, sign('s', 'DELETE', h, '/queues/q/messages?numOfMessages=16'));
    assert.notEqual(a, sign('s', 'GET', { ...h, 'x-mns-extra': '1' }, '/queues/q/messages?numOfMessages=16'));
    // headers that are not x-mns-* (security-token) are not signed
    assert.equal(a, sign('s', 'GET', { ...h, 'security-token': 'tok' }, '/queues/q/messages?numOfMessages=16'));
  });

  it('computes MessageBodyMD5 as upper-case hex of the body text', () => {
    assert.equal(bodyMd5('hello'), '5D41402ABC4B2A76B9719D911017C592');
  });
});

describe('emulator XML parser', () => {
  it('decodes entities and character references, drops namespace prefixes', () => {
    const el = parseXml('<?xml version="1.0"?><a:Root xmlns:a="x"><B>1 &amp; 2 &lt; 3 &#233;&#x4E2D;</B><C/></a:Root>');
    assert.equal(el.name, 'Root');
    assert.equal(el.children[0]?.text, '1 & 2 < 3 é中');
    assert.equal(el.children[1]?.name, 'C');
  });

  it('refuses what @alicloud/mns produces for unescaped bodies', () => {
    assert.throws(() => parseXml('<Message><MessageBody>a & b</MessageBody></Message>'), XmlSyntaxError);
    assert.throws(() => parseXml('<Message><MessageBody>a </b> c</MessageBody></Message>'), XmlSyntaxError);
    assert.throws(() => parseXml('<Message><MessageBody>x</MessageBody>'), XmlSyntaxError);
  });
});
