import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const here = fileURLToPath(new URL('.', import.meta.url));

// The UI is built into dist/web, which Berth serves at `/`. BERTH_WEB_OUT_DIR moves it (tests build a copy).
export default defineConfig({
  root: here,
  base: '/',
  plugins: [react()],
  build: {
    outDir: process.env.BERTH_WEB_OUT_DIR ?? fileURLToPath(new URL('../dist/web', import.meta.url)),
    emptyOutDir: true,
    assetsDir: 'assets',
    sourcemap: false,
    chunkSizeWarningLimit: 1200,
  },
  server: {
    // `npx vite web` during development: the API comes from a Berth on :5000.
    proxy: Object.fromEntries(
      ['/api', '/c', '/v2', '/service'].map((p) => [p, { target: 'http://127.0.0.1:5000' }]),
    ),
  },
});
