// The stdin source: Tetragon JSON lines piped into the daemon (gzip is accepted too).
import type { Readable } from 'node:stream';
import { StreamSource, type StreamSourceOptions } from './stream.js';

export type StdinSourceOptions = Omit<StreamSourceOptions, 'name' | 'open' | 'speed'> & { stdin: Readable };

export function createStdinSource(o: StdinSourceOptions): StreamSource {
  const { stdin, ...rest } = o;
  return new StreamSource({ ...rest, name: 'stdin', speed: 'max', open: () => Promise.resolve(stdin) });
}
