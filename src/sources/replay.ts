// The replay source: a recorded Tetragon JSON-lines file (plain or gzip), or `-` for
// standard input; as fast as possible or paced by the recorded event times.
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { StreamSource, type StreamSourceOptions } from './stream.js';
import { SourceError, errnoCode } from './errors.js';

export type ReplaySourceOptions = Omit<StreamSourceOptions, 'name' | 'open'> & {
  /** A file path, or `-` for `stdin`. */
  file: string;
  stdin: Readable;
};

export async function openRecording(file: string): Promise<Readable> {
  try {
    const handle = await open(file, 'r');
    const stat = await handle.stat();
    if (stat.isDirectory()) {
      await handle.close();
      throw new SourceError('missing-file', `replay file "${file}" is a directory: give a Tetragon JSON-lines recording (.jsonl or .jsonl.gz)`);
    }
    return createReadStream('', { fd: handle, highWaterMark: 256 * 1024 });
  } catch (e) {
    if (e instanceof SourceError) throw e;
    const code = errnoCode(e);
    if (code === 'ENOENT') throw new SourceError('missing-file', `replay file "${file}" does not exist: check the path (or use - to read standard input)`, { cause: e });
    if (code === 'EACCES' || code === 'EPERM') throw new SourceError('permission', `replay file "${file}" cannot be read (${code}): check its permissions`, { cause: e });
    throw new SourceError('failed', `replay file "${file}" cannot be opened: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
}

export function createReplaySource(o: ReplaySourceOptions): StreamSource {
  const { file, stdin, ...rest } = o;
  return new StreamSource({
    ...rest,
    name: 'replay',
    open: () => (file === '-' ? Promise.resolve(stdin) : openRecording(file)),
  });
}
