// Child process for onnx-tmpdir.test.ts: runs a detector over a real classifier in each mode
// and prints the scores as JSON. Started with a fresh, otherwise empty TMPDIR.
import { loadModel } from '../../src/model/folder.js';
import { OnnxClassifier } from '../../src/detector/onnx-classifier.js';
import { Detector } from '../../src/detector/detector.js';
import { Counters } from '../../src/core/counters.js';
import { silentLogger } from '../../src/core/logger.js';

const dir = process.argv[2];
const model = await loadModel({ dir });
const out: Record<string, { scores: number[]; classified: number; telemetryEnv: string | undefined }> = {};
for (const mode of ['inline', 'worker'] as const) {
  const classifier = await OnnxClassifier.open(model, { mode, workers: 2 });
  const scores: number[] = [];
  const counters = new Counters();
  const detector = new Detector({ classifier, sink: { verdict: (v) => void scores.push(v.score) }, counters, log: silentLogger(), batchSize: 64, queueMax: 1000, maxInFlight: classifier.concurrency + 1 });
  await detector.start();
  for (let i = 0; i < 200; i++) {
    detector.window({ process: { execId: `e${i % 9}`, pid: i, binary: '/bin/sh', arguments: '' }, tokens: Int32Array.from([1 + (i % 5), 2, 3]), seq: i, final: false, at: 0 });
  }
  await detector.stop();
  out[mode] = { scores, classified: counters.classified, telemetryEnv: process.env.ORT_DISABLE_TELEMETRY };
}
process.stdout.write(JSON.stringify(out));
