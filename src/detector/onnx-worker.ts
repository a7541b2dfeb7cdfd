// Entry point of a classifier worker thread: one ONNX Runtime session, fed by OnnxClassifier.
import { serveClassifierWorker } from './onnx/engines.js';

await serveClassifierWorker();
