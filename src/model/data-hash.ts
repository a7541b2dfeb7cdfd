// The training data's fingerprint for the model card: sha256 over the files' paths (relative
// to the data root) and contents, in sorted order. Same files, same hash, wherever they live.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { relative } from 'node:path';

export async function dataHash(root: string, files: readonly string[]): Promise<string> {
  const h = createHash('sha256');
  for (const f of [...files].sort()) {
    const rel = relative(root, f) || '.';
    const body = createHash('sha256').update(await readFile(f)).digest('hex');
    h.update(`${rel}\0${body}\n`);
  }
  return h.digest('hex');
}
