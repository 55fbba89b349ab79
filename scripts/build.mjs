// Copies the .wasm grammars into grammars/ and bundles client, server and CLI into dist/, and the
// web extension's client and worker server into dist/browser/.
// --outdir DIR writes DIR/grammars/ and DIR/dist/ instead (the repo's own are left alone), e.g. for
// the end-to-end suite's staging folder.
import * as esbuild from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';

const require = createRequire(import.meta.url);
const root = join(dirname(new URL(import.meta.url).pathname), '..');
const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');
const outdirArg = process.argv.indexOf('--outdir');
if (outdirArg !== -1 && !process.argv[outdirArg + 1]) throw new Error('build: --outdir needs a directory');
const out = outdirArg === -1 ? root : resolve(process.argv[outdirArg + 1]);

mkdirSync(join(out, 'grammars'), { recursive: true });
copyFileSync(require.resolve('web-tree-sitter/web-tree-sitter.wasm'), join(out, 'grammars', 'web-tree-sitter.wasm'));
copyFileSync(join(dirname(require.resolve('tree-sitter-go/package.json')), 'tree-sitter-go.wasm'), join(out, 'grammars', 'tree-sitter-go.wasm'));

// web-tree-sitter's ESM build reads import.meta.url, which a CommonJS bundle lacks: supply it.
const importMetaShim = "const __importMetaUrl = require('url').pathToFileURL(__filename).href;";
const common = {
  bundle: true, platform: 'node', target: 'node20', format: 'cjs', logLevel: 'warning', absWorkingDir: root,
  sourcemap: !production, minify: production,
  define: { 'import.meta.url': '__importMetaUrl' }, banner: { js: importMetaShim },
};
// The web extension: a client for the browser extension host and the server as a web worker.
// web-tree-sitter's Node-only branches import fs and module; they never run in a browser.
const browser = {
  bundle: true, platform: 'browser', target: 'es2022', logLevel: 'warning', absWorkingDir: root,
  sourcemap: !production, minify: production, external: ['fs/promises', 'module'],
  define: { 'import.meta.url': 'self.location.href' },
};
const builds = [
  { ...common, entryPoints: ['client/src/extension.ts'], outfile: join(out, 'dist', 'client.js'), external: ['vscode'] },
  { ...common, entryPoints: ['server/src/node/main.ts'], outfile: join(out, 'dist', 'server.js') },
  { ...common, entryPoints: ['server/src/cli/main.ts'], outfile: join(out, 'dist', 'cli.js'), banner: { js: '#!/usr/bin/env node\n' + importMetaShim } },
  { ...common, entryPoints: ['server/src/cli/fixcheck.ts'], outfile: join(out, 'dist', 'fixcheck.js') },
  { ...browser, format: 'cjs', entryPoints: ['client/src/browser.ts'], outfile: join(out, 'dist', 'browser', 'client.js'), external: ['vscode'] },
  { ...browser, format: 'iife', entryPoints: ['server/src/browser/main.ts'], outfile: join(out, 'dist', 'browser', 'server.js') },
];
if (watch) {
  for (const b of builds) await (await esbuild.context(b)).watch();
} else {
  await Promise.all(builds.map((b) => esbuild.build(b)));
}
