// Entry point of a classifier worker thread: one ONNX Runtime session, fed by OnnxClassifier.
import { serveClassifierWorker } from './onnx-classifier.js';

await serveClassifierWorker();
