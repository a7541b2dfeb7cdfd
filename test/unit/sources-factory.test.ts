import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { createSource } from '../../src/daemon/sources.js';
import { ManagedTetragonSource } from '../../src/sources/managed.js';
import { ExportFileSource } from '../../src/sources/export-file.js';
import { TetraSource } from '../../src/sources/tetra.js';
import { BpftraceSource } from '../../src/sources/bpftrace.js';
import { StreamSource } from '../../src/sources/stream.js';
import { configSchema } from '../../src/config/schema.js';
import { Counters } from '../../src/core/counters.js';
import { silentLogger } from '../../src/core/logger.js';
import { FakeTime } from '../helpers/fake-time.js';

void test('the factory builds the configured source without starting anything', async () => {
  const time = new FakeTime();
  const counters = new Counters();
  const stdin = new PassThrough();
  const lines: string[] = [];
  const deps = { sink: { line: (l: string) => lines.push(l) }, logger: silentLogger(), counters, clock: time, timers: time, stdin };
  const build = (source: string, extra: Record<string, string> = {}) => createSource(configSchema.parse({ source, ...extra }), deps);
  assert.ok(build('managed') instanceof ManagedTetragonSource);
  assert.ok(build('export') instanceof ExportFileSource);
  assert.ok(build('tetra') instanceof TetraSource);
  assert.ok(build('bpftrace') instanceof BpftraceSource);
  const replay = build('replay', { replayFile: '-', replaySpeed: 'max' });
  assert.ok(replay instanceof StreamSource);
  assert.equal(replay.name, 'replay');
  const s = build('stdin');
  assert.equal(s.name, 'stdin');
  // An over-long line is counted as malformed and skipped; the next one arrives.
  await s.start();
  stdin.end(`${'x'.repeat(1024 * 1024 + 1)}\n{"ok":1}\n`);
  await s.done;
  assert.deepEqual(lines, ['{"ok":1}']);
  assert.equal(counters.malformed, 1);
});
