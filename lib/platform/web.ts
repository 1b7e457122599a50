/**
 * The portable backend of every layer (WebCrypto, `@noble/*`): imported for its effect, first, by
 * each browser entry point (the `browser` export condition). Nothing reachable from here may import
 * a `node:` module.
 */
import { installCipherSuite } from '../cipher/suite.js';
import { webCipherSuite } from '../cipher/suites/web.js';

installCipherSuite(webCipherSuite);
