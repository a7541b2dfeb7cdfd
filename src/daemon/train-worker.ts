// Entry point of the training worker thread: one training (learn/training.ts) with ONNX
// Runtime on this thread, at the lowest priority; posts its outcome and ends.
import { parentPort, workerData } from 'node:worker_threads';
import { openInlineClassifier } from '../detector/onnx-classifier.js';
import { runTrainingJob, type TrainingJob } from '../learn/training.js';
import { lowerThreadPriority } from '../runtime/worker.js';
import { prepareOrt } from '../runtime/ort.js';

prepareOrt();
lowerThreadPriority();
const outcome = await runTrainingJob(workerData as TrainingJob, openInlineClassifier);
parentPort?.postMessage(outcome);
