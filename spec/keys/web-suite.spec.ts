/**
 * Every key spec again, under the web key suite (WebCrypto and @noble, as in a browser): the
 * specs are imported inside a describe block that installs the web suite before their hooks run
 * and puts the node suite back after them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installKeySuite, keySuite } from '../../lib/keys/suite.js';
import { nodeKeySuite } from '../../lib/keys/suites/node.js';
import { webKeySuite } from '../../lib/keys/suites/web.js';

describe('under the web key suite', async () => {
  beforeAll(() => installKeySuite(webKeySuite));
  afterAll(() => installKeySuite(nodeKeySuite));

  it('has the web suite installed for the specs below', () => {
    expect(keySuite().name).toBe('web');
  });

  await import('./key-pair.spec.js');
  await import('./import-key.spec.js');
  await import('./export-key.spec.js');
  await import('./corrupt-input.spec.js');
  await import('./import-key.property.spec.js');
  await import('./mutated-formats.property.spec.js');
  await import('./fingerprint.spec.js');
  await import('./known-hosts.spec.js');
  await import('./authorized-keys.spec.js');
  await import('./formats/bcrypt-pbkdf.spec.js');
  await import('./formats/jwk.spec.js');
  await import('./formats/pem.spec.js');
  await import('./formats/ssh2.spec.js');
});
