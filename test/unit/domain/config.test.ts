import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, parseConfig } from '../../../shared/domain/config.js';

describe('config', () => {
  it('applies defaults and splits the vSwitch list', () => {
    const cfg = parseConfig({ ECI_VSWITCH_IDS: 'vsw-a, vsw-b,,' });
    assert.deepEqual(cfg.ECI_VSWITCH_IDS, ['vsw-a', 'vsw-b']);
    assert.equal(cfg.ECI_CREATE_PER_SECOND, 20);
    assert.equal(cfg.QUEUE_KIND, 'mns');
  });

  it('lists every bad variable at once in a ConfigError', () => {
    assert.throws(
      () => parseConfig({ ECI_PROTOCOL: 'ftp', LOG_LEVEL: 'loud', KUBE_API_SERVER: 'not a url' }),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.match(err.message, /ECI_PROTOCOL/);
        assert.match(err.message, /LOG_LEVEL/);
        assert.match(err.message, /KUBE_API_SERVER/);
        return true;
      },
    );
  });
});
