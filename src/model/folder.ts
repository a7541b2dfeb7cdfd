// Finding and reading a model: the folder (model.onnx, syscalls.csv, model.json), the
// TRAINED_MODEL_PATH / SYSCALL_MAPPING_PATH overrides, and the bundled default.
// Checks everything that can be checked without ONNX Runtime; the graph's inputs and outputs
// are checked when the classifier opens it (onnx-classifier.ts), with the same ModelError.
import { readFile, stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { parseMapping, MappingError } from '../syscalls/mapping.js';
import { assetExists, checkoutRoot, resolveAsset } from '../runtime/assets.js';
import type { ModelCard } from '../core/model-card.js';
import type { Classifier } from '../core/types.js';

/** A model that cannot be used; the message names the file, the problem and what to do. */
export class ModelError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ModelError';
  }
}

export const MODEL_FILE = 'model.onnx';
export const MAPPING_FILE = 'syscalls.csv';
export const CARD_FILE = 'model.json';

/** Paths of a model's three files. */
export interface ModelFiles {
  model: string;
  mapping: string;
  card: string;
}

/** Where to load from; each field as in the configuration (modelDir, modelPath, mappingPath). */
export interface ModelLocation {
  /** Model folder; default: the bundled default model. */
  dir?: string;
  /** ONNX file (TRAINED_MODEL_PATH); overrides the folder's model.onnx. */
  modelPath?: string;
  /** Mapping CSV (SYSCALL_MAPPING_PATH); overrides the folder's syscalls.csv. */
  mappingPath?: string;
}

export interface LoadModelDeps {
  /**
   * Files of the bundled default model. Swappable: a compiled binary serves embedded files.
   * Default: `models/default` in the package this module belongs to.
   */
  defaultFiles?: () => ModelFiles;
  /** Relative paths are resolved against this (default: process.cwd()). */
  cwd?: string;
}

export interface LoadedModel {
  card: ModelCard;
  /** Syscall name → model token. */
  mapping: Map<string, number>;
  /** The ONNX file's bytes (ONNX Runtime opens the model from memory). */
  modelBytes: Uint8Array;
  /** Where each part came from, for logs and errors. */
  files: ModelFiles;
  /** Which default applied: an explicit folder, the bundled default, or file overrides. */
  origin: 'folder' | 'default' | 'override';
}

/** Opens a loaded model for scoring (ONNX Runtime, injected by whoever runs the model code). */
export type ClassifierOpener = (model: LoadedModel) => Promise<Classifier>;

export function folderFiles(dir: string): ModelFiles {
  return { model: join(dir, MODEL_FILE), mapping: join(dir, MAPPING_FILE), card: join(dir, CARD_FILE) };
}

export const DEFAULT_MODEL_ASSET = 'models/default';

/**
 * The shipped `models/default`: in a checkout, the folder on disk; in a compiled binary,
 * the embedded copy (unpacked once to the cache). Where it is missing, the path it would
 * have in the checkout, so the error names it.
 */
export function packagedDefaultFiles(): ModelFiles {
  if (assetExists(DEFAULT_MODEL_ASSET)) return folderFiles(resolveAsset(DEFAULT_MODEL_ASSET));
  return folderFiles(join(checkoutRoot(), ...DEFAULT_MODEL_ASSET.split('/')));
}

const positiveInt = z.number().int().positive();

/** The card's schema: what a model needs to be run and reported; extra fields are kept. */
const cardSchema = z.looseObject({
  name: z.string().min(1),
  family: z.string().min(1),
  window: positiveInt,
  delta: positiveInt,
  threshold: z.number().refine(Number.isFinite, 'must be a finite number'),
  vocabulary: z.number().int().min(3),
  minWindow: positiveInt.optional(),
  training: z.looseObject({
    data: z.string(),
    sha256: z.string(),
    traces: z.number().int().nonnegative(),
    syscalls: z.number().int().nonnegative(),
    abi: z.string(),
    seed: z.number().int(),
    targetFpr: z.number().optional(),
  }),
  metrics: z.record(z.string(), z.number()),
  created: z.string(),
});

/** Validates `model.json` content; every problem listed in one ModelError. */
export function parseCard(text: string, source: string): ModelCard {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ModelError(`${source}: the model card is not valid JSON (${(e as Error).message}); restore the model.json written by "argos train"`, { cause: e });
  }
  const r = cardSchema.safeParse(raw);
  if (!r.success) {
    const problems = r.error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(card)'}: ${/received undefined$/.test(i.message) ? 'missing' : i.message}`);
    throw new ModelError(`${source}: the model card is incomplete or wrong (${problems.join('; ')}); restore the model.json written by "argos train"`);
  }
  const card = r.data as ModelCard;
  if (card.delta > card.window) throw new ModelError(`${source}: delta (${card.delta}) must not exceed window (${card.window})`);
  if (card.minWindow !== undefined && card.minWindow > card.window) throw new ModelError(`${source}: minWindow (${card.minWindow}) must not exceed window (${card.window})`);
  return card;
}

/** Checks that the mapping gives exactly the tokens the model was trained with. */
export function checkMappingMatchesCard(mapping: ReadonlyMap<string, number>, card: ModelCard, files: ModelFiles): void {
  let max = 0;
  for (const id of mapping.values()) if (id > max) max = id;
  if (max + 1 !== card.vocabulary) {
    throw new ModelError(
      `${files.mapping}: the syscall mapping does not match the model: its ids go up to ${max} (vocabulary ${max + 1}) but ${files.card} says vocabulary ${card.vocabulary}; use the syscalls.csv trained together with this model (SYSCALL_MAPPING_PATH)`,
    );
  }
}

async function readPart(path: string, what: string, hint: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'does not exist' : code === 'EISDIR' ? 'is a folder, not a file' : `cannot be read (${code ?? String(e)})`;
    throw new ModelError(`${path}: the ${what} ${why}; ${hint}`, { cause: e });
  }
}

async function checkFolder(dir: string, isDefault: boolean): Promise<void> {
  const hint = isDefault
    ? 'the bundled default model is missing: run "npm run train:default", or set ARGOS_MODEL_DIR to a model folder'
    : 'set ARGOS_MODEL_DIR (or --model) to a folder holding model.onnx, syscalls.csv and model.json, as written by "argos train --out DIR"';
  try {
    const s = await stat(dir);
    if (!s.isDirectory()) throw new ModelError(`${dir}: the model folder is a file, not a folder; ${hint}`);
  } catch (e) {
    if (e instanceof ModelError) throw e;
    throw new ModelError(`${dir}: the model folder does not exist; ${hint}`, { cause: e });
  }
}

/**
 * Reads and checks a model. Precedence: TRAINED_MODEL_PATH / SYSCALL_MAPPING_PATH over the
 * folder's files; the folder is `dir` or the bundled default. The card is the `model.json`
 * next to an overriding model file when there is one, else the folder's.
 */
export async function loadModel(location: ModelLocation = {}, deps: LoadModelDeps = {}): Promise<LoadedModel> {
  const cwd = deps.cwd ?? process.cwd();
  const abs = (p: string): string => resolve(cwd, p);
  const folder = location.dir !== undefined ? folderFiles(abs(location.dir)) : (deps.defaultFiles ?? packagedDefaultFiles)();
  const needFolder = location.modelPath === undefined || location.mappingPath === undefined;
  if (location.dir !== undefined) await checkFolder(abs(location.dir), false);
  else if (needFolder) await checkFolder(dirname(folder.card), true);

  const files: ModelFiles = { ...folder };
  if (location.modelPath !== undefined) {
    files.model = abs(location.modelPath);
    const beside = join(dirname(files.model), CARD_FILE);
    if (location.dir === undefined && existsSync(beside)) files.card = beside;
  }
  if (location.mappingPath !== undefined) files.mapping = abs(location.mappingPath);
  const origin: LoadedModel['origin'] = location.modelPath !== undefined || location.mappingPath !== undefined ? 'override' : location.dir !== undefined ? 'folder' : 'default';

  const trainHint = 'a model folder is written by "argos train --out DIR"';
  const cardText = await readPart(files.card, 'model card (model.json)', trainHint);
  const card = parseCard(cardText.toString('utf8'), files.card);
  const mappingText = await readPart(files.mapping, 'syscall mapping', `set SYSCALL_MAPPING_PATH to the syscalls.csv trained with this model; ${trainHint}`);
  let mapping: Map<string, number>;
  try {
    mapping = parseMapping(mappingText.toString('utf8'), files.mapping);
  } catch (e) {
    if (e instanceof MappingError) throw new ModelError(e.message, { cause: e });
    throw e;
  }
  checkMappingMatchesCard(mapping, card, files);
  const modelBytes = await readPart(files.model, 'ONNX model', `set TRAINED_MODEL_PATH to an .onnx file; ${trainHint}`);
  if (modelBytes.length === 0) throw new ModelError(`${files.model}: the ONNX model is empty; set TRAINED_MODEL_PATH to an .onnx file; ${trainHint}`);
  return { card, mapping, modelBytes: new Uint8Array(modelBytes.buffer, modelBytes.byteOffset, modelBytes.byteLength), files, origin };
}
