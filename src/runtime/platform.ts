// Where the code is running: Node (a checkout or `npm run build` output) or Bun, and
// whether Bun runs it from a single compiled binary (`bun build --compile`).

/** True under Bun (the compiled binary, or `bun src/cli/main.ts`). */
export function isBun(): boolean {
  return typeof process.versions.bun === 'string';
}

/** Bun's compiled binaries serve their own code from this virtual folder. */
export const BUNFS_ROOT = process.platform === 'win32' ? 'B:/~BUN/root' : '/$bunfs/root';

/** True inside a binary made by `bun build --compile`. `url` = the caller's `import.meta.url`. */
export function isCompiled(url: string = import.meta.url): boolean {
  return isBun() && decodeURIComponent(url).includes('$bunfs');
}
