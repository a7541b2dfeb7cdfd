// Opening and running one ONNX Runtime session.
import type * as OrtModule from 'onnxruntime-node';
import type { InferenceSession } from 'onnxruntime-node';
import { prepareOrt } from '../../runtime/ort.js';
import { ModelError } from '../../model/folder.js';
import { INPUT_NAME, OUTPUT_NAME, PROFILE_INPUT, SURPRISAL_OUTPUT } from './io.js';

export type Ort = typeof OrtModule;

/** Loads ONNX Runtime lazily, with telemetry off before the native library starts. */
export async function loadOrt(): Promise<Ort> {
  prepareOrt();
  return await import('onnxruntime-node');
}

export async function openSession(ort: Ort, bytes: Uint8Array, threads: number, source: string): Promise<InferenceSession> {
  try {
    return await ort.InferenceSession.create(bytes, {
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
      // No CPU memory arena: on a small device ~30 MB less resident for a few percent of
      // classification speed (measured in docs/benchmarks.md), far above what a device needs.
      enableCpuMemArena: false,
      logSeverityLevel: 3,
    });
  } catch (e) {
    throw new ModelError(`${source}: ONNX Runtime cannot open this model (${(e as Error).message.trim()}); set TRAINED_MODEL_PATH to an ONNX file written by "argos train"`, { cause: e });
  }
}

/** Which output a run reads: the window scores, or each call's surprisal. */
export type OutputKind = 'score' | 'surprisal';

/** One batch for a session: packed windows [n, width] and, for models with profiles, their profiles [n]. */
export interface RunRequest {
  data: BigInt64Array;
  n: number;
  profiles?: BigInt64Array;
  output: OutputKind;
}

/** Runs a batch; the result holds n scores, or n × width surprisals. */
export async function runSession(ort: Ort, session: InferenceSession, req: RunRequest, width: number): Promise<Float32Array> {
  const feeds: Record<string, OrtModule.Tensor> = { [INPUT_NAME]: new ort.Tensor('int64', req.data, [req.n, width]) };
  if (req.profiles !== undefined) feeds[PROFILE_INPUT] = new ort.Tensor('int64', req.profiles, [req.n]);
  const name = req.output === 'score' ? OUTPUT_NAME : SURPRISAL_OUTPUT;
  const out = await session.run(feeds, [name]);
  const t = out[name];
  const want = req.output === 'score' ? req.n : req.n * width;
  if (t.type !== 'float32' || t.size !== want) throw new Error(`the model gave ${t.size} ${t.type} values of "${name}" for ${req.n} windows`);
  return t.data as Float32Array;
}
