#!/usr/bin/env node
// The browser build, dist/browser.js (part of `npm run build`): src/index.ts bundled by esbuild
// into one ES module, with the platform seam src/platform/index.ts resolved to browser.ts instead
// of node.ts. The package's "browser" export condition points here. The build fails if anything
// in the bundle would import a `node:` module, a Node built-in or the addon loader.
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const platformDir = join(root, 'src', 'platform');
const outfile = process.argv[2] ?? join(root, 'dist', 'browser.js');
const nodeOnly = new Set([...builtinModules, 'node-gyp-build']);

/** Swaps the platform: src/platform/index.ts -> browser.ts; refuses Node-only imports. */
const browserPlatform = {
  name: 'tweedie-browser-platform',
  setup(b) {
    b.onResolve({ filter: /(^|\/)index\.js$/ }, (args) => {
      const target = join(args.resolveDir, args.path.replace(/\.js$/, '.ts'));
      if (target !== join(platformDir, 'index.ts')) return undefined;
      return { path: join(platformDir, 'browser.ts') };
    });
    b.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.path.startsWith('node:') || nodeOnly.has(args.path.split('/')[0])) {
        return { errors: [{ text: `the browser build must not import '${args.path}' (from ${relative(root, args.importer)})` }] };
      }
      return undefined;
    });
  },
};

const result = await build({
  entryPoints: [join(root, 'src', 'index.ts')],
  outfile,
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  define: { __TWEEDIE_VERSION__: JSON.stringify(version) },
  banner: { js: `// tweedie ${version}, browser build (TypeScript kernels, no native addon): see README "Install and packaging".` },
  plugins: [browserPlatform],
  metafile: true,
  logLevel: 'warning',
});
const inputs = Object.keys(result.metafile.inputs);
const leaked = inputs.filter((f) => /src\/platform\/(node|mixture-worker)\.ts$|src\/cli\//.test(f));
if (leaked.length) {
  console.error(`build-browser: Node-only modules in the bundle: ${leaked.join(', ')}`);
  process.exit(1);
}
const bytes = Object.values(result.metafile.outputs)[0]?.bytes ?? 0;
console.log(`build-browser: ${relative(root, outfile)} (${(bytes / 1024).toFixed(0)} KiB, ${inputs.length} modules)`);
