// The device's models, versioned in the state folder (beside the database unless configured):
//
//   <dir>/v1/, v2/, ...       model folders (model.onnx, syscalls.csv, model.json)
//   <dir>/current             the version in use ("3"); absent: the shipped generic model
//   <dir>/.staging-*/         a model being written (never loaded; removed at start)
//
// Installing is atomic: the trainer writes a staging folder, its files are synced, the folder
// is renamed to the next version, and only then does `current` (written to a temporary file,
// synced, renamed) point at it. A crash at any moment leaves either the old model in use or
// the new one complete, never a half-written one. The last `keep` versions stay, for rollback.
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { ModelCard } from '../core/model-card.js';
import { CARD_FILE, MAPPING_FILE, MODEL_FILE, parseCard } from '../model/folder.js';

export const CURRENT_FILE = 'current';
const VERSION_DIR = /^v(\d+)$/;
const STAGING = '.staging-';

export interface InstalledModel {
  version: number;
  dir: string;
  card: ModelCard;
}

/** A problem with the state folder or a version in it; the message says what to do. */
export class ModelStoreError extends Error {
  override name = 'ModelStoreError';
}

function fsyncPath(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export class ModelStore {
  constructor(
    readonly dir: string,
    private readonly keep = 3,
  ) {}

  /** Creates the folder and removes what a crash left mid-write. */
  open(): void {
    try {
      mkdirSync(this.dir, { recursive: true, mode: 0o750 });
    } catch (e) {
      throw new ModelStoreError(`cannot create the folder of this device's models ${this.dir}: ${(e as Error).message} (ARGOS_STATE_DIR; default: models/ beside the database)`);
    }
    for (const name of readdirSync(this.dir)) {
      if (name.startsWith(STAGING) || name.startsWith(`${CURRENT_FILE}.tmp`)) rmSync(join(this.dir, name), { recursive: true, force: true });
    }
  }

  /** A fresh folder for the trainer to write a model into. */
  staging(): string {
    const dir = join(this.dir, `${STAGING}${randomBytes(4).toString('hex')}`);
    mkdirSync(dir, { recursive: true });
    return dir;
  }

  dirOf(version: number): string {
    return join(this.dir, `v${version}`);
  }

  /** Installed versions with a complete model, oldest first. */
  list(): InstalledModel[] {
    if (!existsSync(this.dir)) return [];
    const out: InstalledModel[] = [];
    for (const name of readdirSync(this.dir)) {
      const m = VERSION_DIR.exec(name);
      if (m === null) continue;
      const dir = join(this.dir, name);
      try {
        if (![MODEL_FILE, MAPPING_FILE].every((f) => statSync(join(dir, f)).size > 0)) continue;
        out.push({ version: Number(m[1]), dir, card: parseCard(readFileSync(join(dir, CARD_FILE), 'utf8'), join(dir, CARD_FILE)) });
      } catch {
        // Not a complete model folder: not a version.
      }
    }
    return out.sort((a, b) => a.version - b.version);
  }

  /** The version in use; undefined = the shipped generic model. */
  current(): InstalledModel | undefined {
    let text: string;
    try {
      text = readFileSync(join(this.dir, CURRENT_FILE), 'utf8').trim();
    } catch {
      return undefined;
    }
    const version = Number(text);
    return this.list().find((m) => m.version === version);
  }

  /** Makes `staging` (a complete model folder) the next version and the one in use; returns it. */
  install(staging: string): InstalledModel {
    for (const f of [MODEL_FILE, MAPPING_FILE, CARD_FILE]) {
      if (!existsSync(join(staging, f))) throw new ModelStoreError(`${staging} has no ${f}: the training did not finish`);
      fsyncPath(join(staging, f));
    }
    fsyncPath(staging);
    const version = Math.max(0, ...this.list().map((m) => m.version), ...this.versionsOnDisk()) + 1;
    const dir = this.dirOf(version);
    renameSync(staging, dir);
    fsyncPath(this.dir);
    this.use(version);
    this.prune(version);
    const installed = this.current();
    if (installed === undefined) throw new ModelStoreError(`${dir} was installed but cannot be read back`);
    return installed;
  }

  /** Points `current` at `version` (rollback), or at the generic model (undefined). */
  use(version: number | undefined): void {
    const path = join(this.dir, CURRENT_FILE);
    if (version === undefined) {
      rmSync(path, { force: true });
      fsyncPath(this.dir);
      return;
    }
    if (!this.list().some((m) => m.version === version)) throw new ModelStoreError(`there is no model version ${version} in ${this.dir} (installed: ${this.list().map((m) => m.version).join(', ') || 'none'})`);
    const tmp = `${path}.tmp-${randomBytes(4).toString('hex')}`;
    writeFileSync(tmp, `${version}\n`);
    fsyncPath(tmp);
    renameSync(tmp, path);
    fsyncPath(this.dir);
  }

  /** Keeps the newest `keep` versions and the one in use. */
  private prune(inUse: number): void {
    const versions = this.list().map((m) => m.version);
    const keep = new Set([...versions.slice(-this.keep), inUse]);
    for (const v of versions) if (!keep.has(v)) rmSync(this.dirOf(v), { recursive: true, force: true });
  }

  private versionsOnDisk(): number[] {
    return readdirSync(this.dir).flatMap((n) => {
      const m = VERSION_DIR.exec(n);
      return m === null ? [] : [Number(m[1])];
    });
  }
}
