// The training data's fingerprint for the model card: sha256 over the files' paths (relative
// to the data root) and contents, in sorted order. Same files, same hash, wherever they live.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { relative } from 'node:path';
import { pipeline } from 'node:stream/promises';

export async function dataHash(root: string, files: readonly string[]): Promise<string> {
  const h = createHash('sha256');
  for (const f of [...files].sort()) {
    const rel = relative(root, f) || '.';
    // Streamed: a recording may be larger than a buffer can hold.
    const file = createHash('sha256');
    await pipeline(createReadStream(f), file);
    const body = file.digest('hex');
    h.update(`${rel}\0${body}\n`);
  }
  return h.digest('hex');
}
