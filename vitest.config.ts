import { defineConfig } from 'vitest/config';

// Node 20 has its WHATWG WebSocket client only behind a flag; spec/websocket/global-web-socket.spec.ts
// needs one in every runtime (Node 22+, Bun and Deno have it built in).
const webSocketFlag = typeof globalThis.WebSocket === 'undefined' && !('Bun' in globalThis) && !('Deno' in globalThis) ? ['--experimental-websocket'] : [];

export default defineConfig({
  test: {
    include: ['spec/**/*.spec.ts'],
    setupFiles: ['spec/helpers/platform.ts', 'spec/helpers/flush-coverage.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    execArgv: webSocketFlag,
  },
});
