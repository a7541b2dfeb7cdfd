// Entry point of a calibration worker thread: trains one fold's model and sends back the
// held-out scores (cross-fit.ts).
import { parentPort, workerData } from 'node:worker_threads';
import { heldOutScores, type FoldJob, type FoldResult } from './cross-fit.js';

const port = parentPort;
if (port === null) throw new Error('fold-worker must run in a worker thread');
let result: FoldResult;
try {
  result = { scores: heldOutScores(workerData as FoldJob) };
} catch (e) {
  result = { error: e instanceof Error ? e.message : String(e), range: e instanceof RangeError };
}
port.postMessage(result);
