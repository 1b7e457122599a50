/**
 * The portable backend of every layer (WebCrypto, `@noble/*`): imported for its effect, first, by
 * each browser entry point (the `browser` export condition). Nothing reachable from here may import
 * a `node:` module.
 */
import { installKeySuite } from '../keys/suite.js';
import { webKeySuite } from '../keys/suites/web.js';

installKeySuite(webKeySuite);

import { installCipherSuite } from '../cipher/suite.js';
import { webCipherSuite } from '../cipher/suites/web.js';

installCipherSuite(webCipherSuite);

// Key exchange: @noble/curves, @noble/hashes and BigInt.
import { installKexBackend } from '../kex/backend.js';
import { webKexBackend } from '../kex/backends/web.js';
installKexBackend(webKexBackend);
