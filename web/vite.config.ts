/**
 * Vite build of the dashboard (served by the collector from web/dist) and its component tests.
 * `npm run dev -w web` proxies /api (with the live-feed WebSocket) to a collector on 127.0.0.1:8080.
 */
import { fileURLToPath } from 'node:url';
import { defaultServerConditions } from 'vite';
import { defineConfig } from 'vitest/config';
import solid from 'vite-plugin-solid';

export default defineConfig({
  plugins: [solid()],
  server: {
    proxy: { '/api': { target: 'http://127.0.0.1:8080', ws: true, changeOrigin: false } },
  },
  build: {
    target: 'es2022',
    // Hashed file names under assets/ are cached forever by the collector (collector/src/http/static.ts).
    assetsDir: 'assets',
    sourcemap: true,
  },
  // Node-environment tests import the collector's real HTTP app; its workspace imports resolve to source.
  ssr: { resolve: { conditions: ['pcapmesh-src', ...defaultServerConditions], externalConditions: ['pcapmesh-src'] } },
  test: {
    environment: 'happy-dom',
    include: ['src/**/*.test.{ts,tsx}'],
    setupFiles: ['src/test-setup.ts'],
    // vite-plugin-solid resolves with the 'browser' condition, which maps ws to its browser stub.
    alias: [{ find: /^ws$/, replacement: fileURLToPath(import.meta.resolve('ws').replace(/index\.js$/, 'wrapper.mjs')) }],
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
