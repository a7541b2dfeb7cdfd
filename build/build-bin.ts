// Builds the single-file binaries dist/argos-linux-x64 and dist/argos-linux-arm64 with Bun:
// the code, the shipped assets (default model, Tetragon policy, demo recording) and ONNX
// Runtime's native addon and library for the target architecture, all in one file.
//
//   npm run build:bin                     both architectures
//   npm run build:bin -- --arch arm64     one
//   npm run build:bin -- --if-changed     skip a target whose inputs did not change
//
// Runs under Bun (`bun build/build-bin.ts`); cross-compiling fetches Bun's runtime for the
// other architecture from the npm registry once (cached in ~/.bun/install/cache).
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ARCHES = ['x64', 'arm64'] as const;
export type Arch = (typeof ARCHES)[number];

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Shipped with every binary, as paths relative to the checkout (folders taken whole). */
export const ASSETS = [
  'models/default',
  'models/demo',
  'models/debian12-x64',
  'models/recordings/debian12-x64/attacks.jsonl.gz',
  'models/recordings/debian12-x64/labels.json',
  'config/tetragon',
  // The hub's dashboard and its plot library (src/hub/api/assets.ts serves them).
  'src/hub/web',
  'node_modules/uplot/dist/uPlot.iife.min.js',
  'node_modules/uplot/dist/uPlot.min.css',
] as const;

/** The slice of Bun's build API used here (the script runs under Bun; tsc checks it with Node's types). */
interface BunPluginBuilder {
  onResolve(opts: { filter: RegExp }, fn: (args: { path: string }) => { path: string; namespace: string }): void;
  onLoad(opts: { filter: RegExp; namespace?: string }, fn: (args: { path: string }) => { contents: string; loader: 'js' | 'ts' }): void;
}
interface BunApi {
  version: string;
  build(opts: {
    entrypoints: string[];
    compile: { target: string; outfile: string };
    plugins: { name: string; setup(build: BunPluginBuilder): void }[];
    minify: { whitespace: boolean; syntax: boolean; identifiers: boolean };
    sourcemap: 'none' | 'inline' | 'linked';
    bytecode?: boolean;
    format?: 'esm' | 'cjs';
  }): Promise<{ success: boolean; logs: unknown[]; outputs: { path: string }[] }>;
}

export function outFile(arch: Arch, outDir = join(ROOT, 'dist')): string {
  return join(outDir, `argos-linux-${arch}`);
}

function ortDir(arch: Arch): string {
  return join(ROOT, 'node_modules', 'onnxruntime-node', 'bin', 'napi-v6', 'linux', arch);
}

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...walk(p));
    else if (e.isFile()) out.push(p);
  }
  return out.sort();
}

/** Every asset file, relative to the checkout; a missing one is a build error unless allowed. */
export function assetFiles(allowMissing = false): string[] {
  const files: string[] = [];
  for (const a of ASSETS) {
    const p = join(ROOT, a);
    if (!existsSync(p)) {
      if (allowMissing) continue;
      throw new Error(`${a} is missing: the binary must ship it (build it first, or pass --allow-missing-assets for a development build)`);
    }
    files.push(...(statSync(p).isDirectory() ? walk(p) : [p]).map((f) => relative(ROOT, f)));
  }
  return files;
}

function hashFiles(paths: readonly string[], extra: string): string {
  const h = createHash('sha256').update(extra);
  for (const p of paths) h.update(`\0${relative(ROOT, p)}\0`).update(readFileSync(p));
  return h.digest('hex').slice(0, 16);
}

/** Everything a binary is made from; a different hash means rebuild. */
export function inputHash(arch: Arch, bunVersion: string, allowMissing = false): string {
  const sources = ['src', 'build'].flatMap((d) => walk(join(ROOT, d))).filter((f) => !f.endsWith('.md'));
  const others = [...assetFiles(allowMissing).map((f) => join(ROOT, f)), join(ROOT, 'package-lock.json'), ...walk(ortDir(arch))];
  return hashFiles([...sources, ...others], `${arch}\0${bunVersion}`);
}

const lit = (s: string) => JSON.stringify(s);

/** Writes the generated entry for one architecture; returns its path. */
function generate(arch: Arch, genDir: string, allowMissing: boolean): string {
  rmSync(genDir, { recursive: true, force: true });
  mkdirSync(genDir, { recursive: true });
  const src = (p: string) => lit(join(ROOT, 'src', p));

  const assets = assetFiles(allowMissing);
  const assetsKey = hashFiles(assets.map((f) => join(ROOT, f)), 'assets');
  writeFileSync(
    join(genDir, 'assets.ts'),
    [
      `import { registerEmbeddedAssets } from ${src('runtime/assets.ts')};`,
      ...assets.map((f, i) => `import f${i} from ${lit(join(ROOT, f))} with { type: 'file' };`),
      `registerEmbeddedAssets({ key: ${lit(assetsKey)}, files: {`,
      ...assets.map((f, i) => `  ${lit(f)}: f${i},`),
      '} });',
      '',
    ].join('\n'),
  );

  const lib = join(ortDir(arch), 'libonnxruntime.so.1');
  const binding = join(ortDir(arch), 'onnxruntime_binding.node');
  for (const f of [lib, binding]) if (!existsSync(f)) throw new Error(`${f} is missing: run npm ci (onnxruntime-node ships both architectures)`);
  writeFileSync(
    join(genDir, 'ort.ts'),
    [
      `import { loadEmbeddedOrtBinding } from ${src('runtime/ort.ts')};`,
      `import library from ${lit(lib)} with { type: 'file' };`,
      `import binding from ${lit(binding)} with { type: 'file' };`,
      `const key = ${lit(hashFiles([lib, binding], arch))};`,
      'export const loadBinding = () => loadEmbeddedOrtBinding({ key, library, binding });',
      '',
    ].join('\n'),
  );

  const entry = join(genDir, 'entry.ts');
  writeFileSync(
    entry,
    [
      `import './assets.ts';`,
      `import { prepareOrt } from ${src('runtime/ort.ts')};`,
      'prepareOrt();',
      `await import(${src('cli/main.ts')});`,
      '',
    ].join('\n'),
  );
  return entry;
}

/** onnxruntime-node requires its addon by a relative path; point it at the unpacked copy instead. */
function ortBindingPlugin(genDir: string) {
  const pattern = /require\(`\.\.\/bin\/napi-v6\/\$\{process\.platform\}\/\$\{process\.arch\}\/onnxruntime_binding\.node`\)/;
  return {
    name: 'argos-ort-binding',
    setup(build: BunPluginBuilder) {
      build.onLoad({ filter: /onnxruntime-node[\\/]dist[\\/]binding\.js$/ }, ({ path }) => {
        const text = readFileSync(path, 'utf8');
        if (!pattern.test(text)) {
          throw new Error(`${path}: the addon require was not found; onnxruntime-node changed, update build/build-bin.ts`);
        }
        return { contents: text.replace(pattern, `require(${lit(join(genDir, 'ort.ts'))}).loadBinding()`), loader: 'js' };
      });
    },
  };
}

/** Packages only the Node runtime uses (the binary has bun:sqlite): a stub that says so if called. */
const NODE_ONLY = ['better-sqlite3'];

function nodeOnlyStubPlugin() {
  const filter = new RegExp(`^(${NODE_ONLY.map((n) => n.replace(/[-/\\^$*+?.()|[\]{}]/g, '\\$&')).join('|')})$`);
  return {
    name: 'argos-node-only',
    setup(build: BunPluginBuilder) {
      build.onResolve({ filter }, ({ path }) => ({ path, namespace: 'argos-node-only' }));
      build.onLoad({ filter: /.*/, namespace: 'argos-node-only' }, ({ path }) => ({
        contents: `export default function unavailable() { throw new Error(${lit(`${path} is for Node; this binary uses bun:sqlite`)}); }\n`,
        loader: 'js',
      }));
    },
  };
}

export interface BuildResult {
  arch: Arch;
  file: string;
  bytes: number;
  built: boolean;
  seconds: number;
}

export interface BuildOptions {
  outDir?: string;
  /** Skip the build when the inputs hash to the stamp left by the last build. */
  ifChanged?: boolean;
  /** Development builds: leave out shipped files that do not exist yet. */
  allowMissingAssets?: boolean;
}

export async function buildBinary(bun: BunApi, arch: Arch, opts: BuildOptions = {}): Promise<BuildResult> {
  const allowMissing = opts.allowMissingAssets ?? false;
  const t0 = performance.now();
  const file = outFile(arch, opts.outDir);
  const genDir = join(ROOT, 'dist', '.gen', arch);
  const stampFile = `${file}.stamp`;
  const hash = inputHash(arch, bun.version, allowMissing);
  if (opts.ifChanged && existsSync(file) && existsSync(stampFile) && readFileSync(stampFile, 'utf8').trim() === hash) {
    return { arch, file, bytes: statSync(file).size, built: false, seconds: 0 };
  }
  const entry = generate(arch, genDir, allowMissing);
  mkdirSync(dirname(file), { recursive: true });
  rmSync(stampFile, { force: true });
  const result = await bun.build({
    entrypoints: [entry],
    compile: { target: `bun-linux-${arch}`, outfile: file },
    plugins: [ortBindingPlugin(genDir), nodeOnlyStubPlugin()],
    minify: { whitespace: true, syntax: true, identifiers: false },
    sourcemap: 'none',
    format: 'esm',
  });
  if (!result.success) {
    throw new Error(`bun build failed for ${arch}:\n${result.logs.map((l) => String(l)).join('\n')}`);
  }
  writeFileSync(stampFile, `${hash}\n`);
  return { arch, file, bytes: statSync(file).size, built: true, seconds: (performance.now() - t0) / 1000 };
}

function parseArgs(argv: readonly string[]): BuildOptions & { arches: Arch[] } {
  const arches: Arch[] = [];
  let ifChanged = false;
  let allowMissingAssets = false;
  let outDir: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--if-changed') ifChanged = true;
    else if (a === '--allow-missing-assets') allowMissingAssets = true;
    else if (a === '--arch' || a === '--out-dir') {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      if (a === '--out-dir') outDir = resolve(v);
      else if (v === 'all') arches.push(...ARCHES);
      else if ((ARCHES as readonly string[]).includes(v)) arches.push(v as Arch);
      else throw new Error(`--arch must be x64, arm64 or all (got "${v}")`);
    } else throw new Error(`unknown option "${a}" (use --arch x64|arm64|all, --if-changed, --out-dir DIR, --allow-missing-assets)`);
  }
  return { arches: arches.length > 0 ? [...new Set(arches)] : [...ARCHES], ifChanged, outDir, allowMissingAssets };
}

async function main(): Promise<number> {
  const bun = (globalThis as { Bun?: BunApi }).Bun;
  if (!bun) {
    process.stderr.write('build-bin: run it with Bun: npm run build:bin\n');
    return 2;
  }
  let args: ReturnType<typeof parseArgs>;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`build-bin: ${(e as Error).message}\n`);
    return 2;
  }
  for (const arch of args.arches) {
    try {
      const r = await buildBinary(bun, arch, args);
      const mib = (r.bytes / 1048576).toFixed(1);
      const what = r.built ? `built in ${r.seconds.toFixed(1)} s` : 'up to date';
      process.stdout.write(`${relative(process.cwd(), r.file)}: ${mib} MiB, ${what}\n`);
    } catch (e) {
      process.stderr.write(`build-bin: ${(e as Error).message}\n`);
      return 1;
    }
  }
  return 0;
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('build-bin.ts')) {
  process.exitCode = await main();
}
