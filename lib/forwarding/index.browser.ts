/**
 * The `ssh-streams/forwarding` entry for browsers (the `browser` export condition): installs the portable
 * backend (WebCrypto, @noble/*), then the same public exports as on Node. Nothing reachable from
 * here imports a `node:` module (spec/platform/browser-bundle.spec.ts checks it).
 */
import '../platform/web.js';
export * from './index.js';
