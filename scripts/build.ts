/**
 * `npm run build`: one CommonJS bundle per function (`functions/<name>/index.ts` →
 * `dist/functions/<name>/index.js`) and one for the watcher (`watcher/main.ts` → `dist/watcher/index.js`).
 *
 * Decisions:
 * - CJS, not ESM: the @alicloud SDKs are CJS and `require` builtins, which an ESM bundle cannot do without a
 *   `createRequire` banner; FC loads `.js` as CJS unless a package.json says otherwise. ESM-only dependencies
 *   (@middy/core 6, @kubernetes/client-node 1.4.0) are converted by esbuild. A `{"type":"commonjs"}`
 *   package.json is written next to each bundle so the root `"type":"module"` never applies to it.
 * - `babel-runtime/*` external: @alicloud/mns and @alicloud/fc2 pick `lib/` or `es5/` at run time; esbuild
 *   follows both and the es5 branch needs babel-runtime (not even declared). Node 20 never loads it.
 * - `import.meta.url` / `import.meta.dirname` in our own ESM sources are rewritten to the bundle's
 *   `__filename` / `__dirname` (esbuild otherwise leaves `import.meta` empty in CJS output).
 * - `whatwg-url` is shimmed with Node's URL (see shimWhatwgUrl): -280 KB per bundle.
 * - Function bundles use the lite Kubernetes client (shared/adapters/kube/lite.ts): the client-node adapter that
 *   compose.ts imports for kubeconfig / in-cluster use is replaced by shared/adapters/kube/absent.ts in them
 *   (see withoutClientNode), so @kubernetes/client-node (~1 MB, most of the load time) is not bundled; nor are
 *   the packages @darabonba/typescript loads for helpers the ECI SDK never calls (see darabonbaWithoutUnused), nor
 *   the BSS SDK's models of actions the reconcile function never calls (see bssModelsUsed); only the reconcile
 *   bundle carries the BSS SDK at all (shared/compose-reconcile.ts).
 * - zod: our `import { z } from 'zod'` is bundled as `import * as z from 'zod'`, which esbuild can tree-shake
 *   (see zodNamespaceImport): -370 KB per bundle.
 * - Minified, with a separate source map (`NODE_OPTIONS=--enable-source-maps` in s.yaml).
 */
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build as esbuild, type Metafile, type Plugin } from 'esbuild';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
/** Bundle size above which the build warns (cold-start and upload budget). */
export const MAX_BUNDLE_BYTES = 1.5 * 1024 * 1024;

export interface BundleEntry {
  /** `functions/<name>` or `watcher` */
  name: string;
  /** absolute path of the TypeScript entry */
  entry: string;
  /** output folder, relative to outDir (holds index.js, index.js.map, package.json) */
  outSubdir: string;
}

export interface BuiltBundle extends BundleEntry {
  /** absolute path of the emitted `index.js` */
  file: string;
  bytes: number;
  mapBytes: number;
  /** esbuild's metafile of this bundle (inputs and their bytes in the output) */
  metafile: Metafile;
}

export interface BuildOptions {
  root?: string;
  outDir?: string;
  entries?: BundleEntry[];
  minify?: boolean;
  /** remove stale outputs (dist/functions, dist/watcher) first; default true when building the discovered set */
  clean?: boolean;
}

export class BuildError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BuildError';
  }
}

/** The functions are the folders under functions/ that contain an index.ts. */
export function discoverFunctions(root = ROOT): string[] {
  const dir = join(root, 'functions');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((n) => statSync(join(dir, n)).isDirectory() && existsSync(join(dir, n, 'index.ts')))
    .sort();
}

export function discoverEntries(root = ROOT): BundleEntry[] {
  const entries: BundleEntry[] = discoverFunctions(root).map((fn) => ({
    name: `functions/${fn}`,
    entry: join(root, 'functions', fn, 'index.ts'),
    outSubdir: join('functions', fn),
  }));
  const watcher = join(root, 'watcher', 'main.ts');
  if (existsSync(watcher)) entries.push({ name: 'watcher', entry: watcher, outSubdir: 'watcher' });
  return entries;
}

/**
 * `whatwg-url` (with its 260 KB tr46 Unicode table) is required only by node-fetch 2, which uses it as a
 * fallback (`Url.URL || whatwgUrl.URL`) for Node versions without a global URL. Node 20 always has one, so it is
 * replaced by a two-line shim re-exporting Node's own classes.
 */
const shimWhatwgUrl: Plugin = {
  name: 'shim-whatwg-url',
  setup(b) {
    b.onResolve({ filter: /^whatwg-url$/ }, () => ({ path: 'whatwg-url', namespace: 'shim' }));
    b.onLoad({ filter: /.*/, namespace: 'shim' }, () => ({
      contents: 'module.exports = { URL: globalThis.URL, URLSearchParams: globalThis.URLSearchParams };',
      loader: 'js',
    }));
  },
};

/**
 * For the function bundles: compose.ts's import of the client-node adapter (`./adapters/kube/index.js`, used only
 * for KUBECONFIG / in-cluster configs, which the functions never have) resolves to `absent.ts`, a stub that says so.
 */
function withoutClientNode(root: string): Plugin {
  const compose = join(root, 'shared', 'compose.ts');
  return {
    name: 'functions-without-client-node',
    setup(b) {
      b.onResolve({ filter: /\/adapters\/kube\/index\.js$/ }, (args) =>
        args.importer === compose ? { path: join(root, 'shared', 'adapters', 'kube', 'absent.ts') } : undefined,
      );
    },
  };
}

/**
 * Packages that `@darabonba/typescript` (required by @alicloud/tea-util for `toMap` and `RuntimeOptions` only)
 * loads for helpers the ECI SDK path never calls: lodash (its `merge`), moment (its `Date`), ws and the proxy agents
 * (its WebSocket client). In the function bundles they are replaced by a stub that throws a clear error if one is
 * ever used: ~290 KB per bundle.
 */
const DARABONBA_UNUSED = /^(lodash|moment|ws|https-proxy-agent|http-proxy-agent|socks-proxy-agent)$/;

const darabonbaWithoutUnused: Plugin = {
  name: 'darabonba-without-unused',
  setup(b) {
    b.onResolve({ filter: DARABONBA_UNUSED }, (args) =>
      args.importer.includes('node_modules/@darabonba/typescript/') ? { path: args.path, namespace: 'not-bundled' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'not-bundled' }, (args) => ({
      // A callable, constructible proxy: requiring it is harmless (no keys but the target function's fixed ones, no
      // __esModule); any use throws.
      contents:
        `const fail = () => { throw new Error(${JSON.stringify(`${args.path} is not in this function bundle (only @darabonba/typescript helpers the ECI SDK never calls use it)`)}); };` +
        'module.exports = new Proxy(function () {}, { get: (t, k) => (k === "__esModule" ? undefined : k === "prototype" ? t.prototype : fail()), ' +
        'apply: fail, construct: fail, ownKeys: (t) => Reflect.ownKeys(t).filter((k) => !Object.getOwnPropertyDescriptor(t, k).configurable) });',
      loader: 'js',
    }));
  },
};

/**
 * `import { z } from 'zod'` makes esbuild keep zod's whole namespace, its 64 locales included (~450 KB minified),
 * where `import * as z from 'zod'` (same bindings: zod's index re-exports everything beside `z`) lets it keep only
 * what is used (~85 KB for a small schema). Our sources are read with the first form rewritten to the second, so
 * every bundle gets the small zod whichever form a file uses. (Writing `import * as z from 'zod'` in the sources
 * makes this a no-op.)
 */
const ZOD_NAMED_IMPORT = /^import \{ z \} from 'zod';$/m;

const zodNamespaceImport: Plugin = {
  name: 'zod-namespace-import',
  setup(b) {
    b.onLoad({ filter: /\.ts$/ }, async (args) => {
      if (args.path.includes('node_modules')) return undefined;
      const source = await readFile(args.path, 'utf8');
      if (!ZOD_NAMED_IMPORT.test(source)) return undefined;
      return { contents: source.replace(ZOD_NAMED_IMPORT, "import * as z from 'zod';"), loader: 'ts' };
    });
  },
};

/**
 * @alicloud/bssopenapi20171214's client requires its model index, ~900 models (4.4 MB of source, ~800 KB
 * minified), although a client method only touches its own request and response models, and only when called.
 * In function bundles the index is replaced by the models of the actions the BSS adapter calls (BSS_ACTIONS);
 * calling any other action of that client there fails with a clear TypeError.
 */
const BSS_ACTIONS = ['DescribeInstanceBill'];
const bssModelsUsed: Plugin = {
  name: 'bss-models-used',
  setup(b) {
    b.onResolve({ filter: /^\.\/models\/model$/ }, (args) =>
      args.importer.includes('node_modules/@alicloud/bssopenapi20171214/dist/') ? { path: join(args.resolveDir, 'models'), namespace: 'bss-models' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'bss-models' }, (args) => ({
      contents: `module.exports = Object.assign({}, ${BSS_ACTIONS.flatMap((a) => [`${a}Request`, `${a}Response`, `${a}ResponseBody`])
        .map((m) => `require(${JSON.stringify(`./${m}`)})`)
        .join(', ')});`,
      resolveDir: args.path,
      loader: 'js',
    }));
  },
};

const IMPORT_META_BANNER =
  'var __bundle_import_meta_url=require("url").pathToFileURL(__filename).href;' +
  'var __bundle_import_meta_dirname=__dirname;var __bundle_import_meta_filename=__filename;';

async function buildOne(e: BundleEntry, root: string, outDir: string, minify: boolean): Promise<BuiltBundle> {
  const dir = join(outDir, e.outSubdir);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'index.js');
  let metafile: Metafile;
  try {
    const res = await esbuild({
      entryPoints: [e.entry],
      outfile: file,
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      minify,
      // Error classes are told apart by name (BridgeError sets name from the class): keep names when minifying.
      keepNames: true,
      sourcemap: 'linked',
      // @alicloud/fc2 (FC 2.0 invoker only, loaded lazily) pulls ali-oss/urllib, whose optional proxy-agent
      // cannot be bundled; the FC nodejs runtimes ship @alicloud/fc2 preinstalled.
      external: ['babel-runtime/*', '@alicloud/fc2'],
      define: {
        'import.meta.url': '__bundle_import_meta_url',
        'import.meta.dirname': '__bundle_import_meta_dirname',
        'import.meta.filename': '__bundle_import_meta_filename',
      },
      banner: { js: IMPORT_META_BANNER },
      plugins: e.name.startsWith('functions/')
        ? [shimWhatwgUrl, zodNamespaceImport, withoutClientNode(root), darabonbaWithoutUnused, bssModelsUsed]
        : [shimWhatwgUrl, zodNamespaceImport],
      legalComments: 'none',
      logLevel: 'silent',
      metafile: true,
    });
    metafile = res.metafile;
    for (const w of res.warnings) {
      process.stderr.write(`build: ${e.name}: warning: ${w.text}${w.location ? ` (${w.location.file}:${w.location.line})` : ''}\n`);
    }
  } catch (cause) {
    throw new BuildError(`esbuild failed for ${e.name}: ${cause instanceof Error ? cause.message : String(cause)}`, {
      cause,
    });
  }
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify({ type: 'commonjs' })}\n`);
  return { ...e, file, bytes: statSync(file).size, mapBytes: statSync(`${file}.map`).size, metafile };
}

/** Builds the bundles (in parallel) and returns their sizes. Throws BuildError on the first failure. */
export async function buildBundles(opts: BuildOptions = {}): Promise<BuiltBundle[]> {
  const root = opts.root ?? ROOT;
  const outDir = opts.outDir ?? join(root, 'dist');
  const entries = opts.entries ?? discoverEntries(root);
  if (entries.length === 0) throw new BuildError('nothing to build: no functions/*/index.ts and no watcher/main.ts');
  if (opts.clean ?? opts.entries === undefined) {
    rmSync(join(outDir, 'functions'), { recursive: true, force: true });
    rmSync(join(outDir, 'watcher'), { recursive: true, force: true });
  }
  return Promise.all(entries.map((e) => buildOne(e, root, outDir, opts.minify ?? true)));
}

/**
 * What a bundle is made of: bytes in the output per package (`node_modules/<pkg>`, scoped packages kept whole) or,
 * for our own sources, per top-level folder (`shared/adapters/kube`, `functions/gc`), largest first.
 */
export function contributors(metafile: Metafile, depth = 3): { name: string; bytes: number }[] {
  const sums = new Map<string, number>();
  for (const out of Object.values(metafile.outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(out.inputs)) {
      const key = contributorOf(input, depth);
      sums.set(key, (sums.get(key) ?? 0) + bytesInOutput);
    }
  }
  return [...sums].map(([name, bytes]) => ({ name, bytes })).sort((a, b) => b.bytes - a.bytes);
}

function contributorOf(input: string, depth: number): string {
  const nm = input.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const parts = input.slice(nm + 'node_modules/'.length).split('/');
    return (parts[0]?.startsWith('@') ? parts.slice(0, 2) : parts.slice(0, 1)).join('/');
  }
  if (!input.includes('/')) return input; // esbuild's virtual inputs (`<runtime>`, shims)
  return input.split('/').slice(0, depth - 1).join('/');
}

export function formatBytes(n: number): string {
  return n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(2)} MB` : `${(n / 1024).toFixed(1)} KB`;
}

async function main(argv: string[]): Promise<number> {
  const outIdx = argv.indexOf('--outdir');
  const outDir = outIdx >= 0 ? argv[outIdx + 1] : undefined;
  const started = performance.now();
  const built = await buildBundles({ outDir, minify: !argv.includes('--no-minify') });
  let warned = 0;
  for (const b of built) {
    const over = b.bytes > MAX_BUNDLE_BYTES;
    if (over) warned++;
    process.stdout.write(
      `${relative(process.cwd(), b.file).padEnd(36)} ${formatBytes(b.bytes).padStart(10)}  (map ${formatBytes(b.mapBytes)})${
        over ? `  WARNING: over ${formatBytes(MAX_BUNDLE_BYTES)}` : ''
      }\n`,
    );
  }
  process.stdout.write(`built ${built.length} bundle(s) in ${Math.round(performance.now() - started)} ms\n`);
  const analyze = argv.indexOf('--analyze');
  if (analyze >= 0) {
    const top = Number(argv[analyze + 1]) || 15;
    for (const b of built) {
      process.stdout.write(`\n${b.name} (${formatBytes(b.bytes)}): top ${top} contributors\n`);
      for (const c of contributors(b.metafile).slice(0, top)) {
        process.stdout.write(`  ${formatBytes(c.bytes).padStart(10)}  ${((100 * c.bytes) / b.bytes).toFixed(1).padStart(5)}%  ${c.name}\n`);
      }
    }
  }
  if (warned) process.stderr.write(`build: ${warned} bundle(s) over the ${formatBytes(MAX_BUNDLE_BYTES)} budget\n`);
  return 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`build: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
