// The configured model loads and ONNX Runtime scores a window with it.
import type { Config } from '../config/load.js';
import { guarded, type Check } from './check.js';

/** Loads the configured model and scores one empty window with ONNX Runtime. */
async function openAndScore(config: Config): Promise<string> {
  const { loadModel } = await import('../model/folder.js');
  const { openInlineClassifier } = await import('../detector/onnx-classifier.js');
  const model = await loadModel({ dir: config.modelDir, modelPath: config.modelPath, mappingPath: config.mappingPath });
  const classifier = await openInlineClassifier(model);
  try {
    const [score] = await classifier.score([new Int32Array(model.card.window)]);
    if (!Number.isFinite(score)) throw new Error(`${model.files.model}: the model gave a non-finite score (${score})`);
  } finally {
    await classifier.close();
  }
  const where = model.origin === 'default' ? 'bundled default' : model.files.model;
  return `${model.card.name} (${where}): window ${model.card.window}, threshold ${Number(model.card.threshold.toPrecision(4))}, vocabulary ${model.card.vocabulary}; ONNX Runtime scores it`;
}

export const modelCheck: Check = async (ctx) => [
  await guarded('model', () => (ctx.model ?? openAndScore)(ctx.config), 'set ARGOS_MODEL_DIR to a model folder written by "argos train", or reinstall Argos for the bundled one', ctx.timeoutMs * 6),
];
