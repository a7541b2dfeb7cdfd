// A process that loads ONNX Runtime and classifies leaves nothing in $TMPDIR, and switches
// telemetry off by itself.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { promisify } from 'node:util';
import { expectedScore, tempRoot, writeModelFolder } from './onnx-models.js';

const run = promisify(execFile);
const root = tempRoot();
const emptyTmp = mkdtempSync(join(tmpdir(), 'argos-tmpdir-check-'));
after(() => {
  rmSync(root, { recursive: true, force: true });
  rmSync(emptyTmp, { recursive: true, force: true });
});

void test('classifying in both modes leaves $TMPDIR empty, with telemetry off', async () => {
  const dir = writeModelFolder(root, 'model');
  const env: NodeJS.ProcessEnv = { ...process.env, TMPDIR: emptyTmp, TSX_DISABLE_CACHE: '1' };
  delete env.ORT_DISABLE_TELEMETRY;
  const { stdout } = await run(process.execPath, ['--import', 'tsx', 'test/integration/onnx-tmpdir-child.ts', dir], { env, timeout: 60_000 });
  const result = JSON.parse(stdout) as Record<string, { scores: number[]; classified: number; telemetryEnv?: string }>;
  for (const mode of ['inline', 'worker']) {
    const r = result[mode];
    assert.equal(r.classified, 200, mode);
    assert.equal(r.telemetryEnv, '1', `${mode}: telemetry switched off before ONNX Runtime loaded`);
    // Verdicts may come back in any order across workers; compare as multisets.
    const want = Array.from({ length: 200 }, (_, i) => expectedScore([1 + (i % 5), 2, 3], 8)).sort((a, b) => a - b);
    assert.deepEqual([...r.scores].sort((a, b) => a - b), want, mode);
  }
  assert.deepEqual(readdirSync(emptyTmp), [], 'nothing left in TMPDIR');
});
