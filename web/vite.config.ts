import react from '@vitejs/plugin-react';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

/** The dashboard builds into web/dist, which `sluice server` serves at `/` (src/api/static.ts). */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // Served from loopback or a LAN: one small bundle beats many requests; no source maps in the tarball.
    sourcemap: false,
    reportCompressedSize: false,
  },
  server: {
    // `npx vite --config web/vite.config.ts` during development: the API comes from a local `sluice server`.
    proxy: { '/api': process.env.SLUICE_SERVER ?? 'http://127.0.0.1:7070', '/healthz': process.env.SLUICE_SERVER ?? 'http://127.0.0.1:7070' },
  },
});
