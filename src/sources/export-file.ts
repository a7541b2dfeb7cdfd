// The export-file source: follows a Tetragon JSON export file like `tail -F`.
//
// - A file that exists when the source starts is read from its END (`from: 'end'`, the
//   default for a daemon): what is already there was written before we ran, and reading a
//   backlog of up to `--export-file-max-size-mb` on every restart would replay old
//   processes and alert twice. `from: 'start'` reads it whole.
// - A file that appears later (created, or re-created after a rotation) is read from 0.
// - Rotation (rename or delete, then a new file): the old descriptor is read to its end
//   first, then the new file from 0, so no line is skipped or read twice. When the writer
//   rotated more than once before we looked, the backups in between (siblings named
//   `<stem>…`, not compressed, last written after the old file and before the new one) are
//   read whole, oldest first.
// - Truncation (the size drops below our position): read again from 0.
// Changes are noticed by fs.watch on the directory plus a poll every `pollMs` (fs.watch
// misses events on some filesystems and cannot watch a directory that does not exist yet).
import { watch, type FSWatcher } from 'node:fs';
import { open, readdir, stat, type FileHandle } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import type { EventSource, LineSink } from '../core/types.js';
import type { Logger } from '../core/logger.js';
import type { Counters } from '../core/counters.js';
import { LineSplitter } from './lines.js';
import { errnoCode } from './errors.js';
import type { Timers } from '../core/time.js';

export interface ExportFileOptions {
  path: string;
  sink: LineSink;
  logger: Logger;
  counters: Counters;
  timers: Timers;
  /** Where to begin in a file that already exists at start (default 'end'). */
  from?: 'end' | 'start';
  /** Poll interval in ms (default 250). */
  pollMs?: number;
  /** Use fs.watch as well as polling (default true). */
  watch?: boolean;
  maxLine?: number;
  onOversize?: (bytes: number) => void;
  /** Called after new bytes were read (the managed source's readiness signal). */
  onData?: () => void;
  /** Name in logs (default 'export'). */
  name?: string;
  /** Default: node:fs/promises. */
  fs?: ExportFs;
}

/** The file-system calls the source makes (tests wrap them to inject failures). */
export interface ExportFs {
  open(path: string, flags: 'r'): Promise<FileHandle>;
  readdir(path: string): Promise<string[]>;
  stat: typeof stat;
}

const nodeFs: ExportFs = { open, readdir: (path) => readdir(path), stat };

const READ_SIZE = 256 * 1024;

export class ExportFileSource implements EventSource {
  readonly name: string;
  readonly done: Promise<void>;
  private resolveDone!: () => void;
  private readonly splitter: LineSplitter;
  private readonly buf = Buffer.allocUnsafe(READ_SIZE);
  private handle: FileHandle | undefined;
  private ino = -1;
  private dev = -1;
  private pos = 0;
  /** mtime (ns) of the file we last finished, to find backups rotated away unseen. */
  private finishedMtime: bigint | undefined;
  /** Files read to their end ("dev:ino"), so none is read twice. */
  private readonly finished = new Set<string>();
  private opened = false;
  private stopped = false;
  private running: Promise<void> | undefined;
  private again = false;
  private watcher: FSWatcher | undefined;
  private pollTimer: unknown;
  private lastError = '';
  private readonly fs: ExportFs;

  constructor(private readonly o: ExportFileOptions) {
    this.fs = o.fs ?? nodeFs;
    this.name = o.name ?? 'export';
    this.splitter = new LineSplitter(o.sink, { maxLine: o.maxLine, onOversize: o.onOversize });
    this.done = new Promise((r) => (this.resolveDone = r));
  }

  /** Bytes read so far from the current file (its read position). */
  get position(): number {
    return this.pos;
  }

  async start(): Promise<void> {
    if (this.stopped) return;
    await this.pumpOnce(true);
    if (this.handle === undefined) this.o.logger.info({ source: this.name, path: this.o.path }, 'export file does not exist yet; waiting for it');
    if (this.o.watch !== false) this.startWatch();
    this.schedulePoll();
  }

  async stop(): Promise<void> {
    if (!this.stopped) {
      this.stopped = true;
      this.watcher?.close();
      this.watcher = undefined;
      if (this.pollTimer !== undefined) this.o.timers.clearTimeout(this.pollTimer);
      this.pollTimer = undefined;
    }
    await this.running;
    const h = this.handle;
    this.handle = undefined;
    await h?.close();
    this.resolveDone();
  }

  /** Looks for new data now (also called by the watcher and the poll). */
  kick(): void {
    if (this.stopped) return;
    if (this.running !== undefined) {
      this.again = true;
      return;
    }
    this.running = (async () => {
      do {
        this.again = false;
        try {
          await this.pumpOnce(false);
          this.lastError = '';
        } catch (e) {
          // Logged once per distinct problem; the next poll tries again.
          const msg = e instanceof Error ? e.message : String(e);
          if (msg !== this.lastError) this.o.logger.warn({ source: this.name, path: this.o.path, err: msg }, 'cannot read the export file; retrying');
          this.lastError = msg;
        }
      } while (this.again && !this.stopped);
      this.running = undefined;
    })();
  }

  private startWatch(): void {
    const name = basename(this.o.path);
    try {
      this.watcher = watch(dirname(this.o.path), { persistent: false }, (_event, file) => {
        if (file === null || file === name) this.kick();
      });
      this.watcher.on('error', (e) => {
        this.o.logger.debug({ source: this.name, err: e.message }, 'directory watch failed; polling only');
        this.watcher?.close();
        this.watcher = undefined;
      });
    } catch (e) {
      this.o.logger.debug({ source: this.name, err: e instanceof Error ? e.message : String(e) }, 'cannot watch the directory; polling only');
    }
  }

  private schedulePoll(): void {
    if (this.stopped) return;
    this.pollTimer = this.o.timers.setTimeout(() => {
      this.kick();
      this.schedulePoll();
    }, this.o.pollMs ?? 250);
  }

  /** Opens the file if needed, reads what is new, and handles rotation and truncation. */
  private async pumpOnce(atStart: boolean): Promise<void> {
    for (let round = 0; round < 4 && !this.stopped; round++) {
      if (this.handle === undefined && !(await this.openFile(atStart && round === 0))) return;
      await this.readToEnd();
      let st;
      try {
        st = await stat(this.o.path);
      } catch (e) {
        if (errnoCode(e) !== 'ENOENT') throw e;
        st = undefined;
      }
      if (st === undefined || st.ino !== this.ino || st.dev !== this.dev) {
        // Rotated or deleted: finish the old file (a writer may have added to it since),
        // then continue with the new one from its start.
        await this.readToEnd();
        this.splitter.end();
        const h = this.handle;
        if (h !== undefined) {
          const fst = await h.stat({ bigint: true });
          this.finishedMtime = fst.mtimeNs;
          this.markFinished(`${fst.dev}:${fst.ino}`);
        }
        await this.closeFile();
        this.o.logger.info({ source: this.name, path: this.o.path }, st === undefined ? 'export file removed; waiting for a new one' : 'export file rotated; following the new file');
        if (st === undefined) return;
        continue;
      }
      const h = this.handle;
      if (h === undefined) return;
      const size = (await h.stat()).size;
      if (size < this.pos) {
        const dropped = this.splitter.discard();
        this.o.logger.info({ source: this.name, path: this.o.path, size, position: this.pos, dropped }, 'export file truncated; reading it again from the start');
        this.pos = 0;
        continue;
      }
      return;
    }
  }

  private async openFile(atStart: boolean): Promise<boolean> {
    let h: FileHandle;
    try {
      h = await this.fs.open(this.o.path, 'r');
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') return false;
      throw e;
    }
    let st;
    try {
      st = await h.stat({ bigint: true });
      if (this.finishedMtime !== undefined) {
        await this.readSkippedBackups(this.finishedMtime, st.mtimeNs, st.ino);
        this.finishedMtime = undefined;
      }
    } catch (e) {
      // Not kept: closed now, opened again on the next try.
      await h.close().catch(() => undefined);
      throw e;
    }
    this.handle = h;
    this.ino = Number(st.ino);
    this.dev = Number(st.dev);
    // Only a file present at start may be skipped; any file found later is new.
    this.pos = atStart && !this.opened && this.o.from !== 'start' ? Number(st.size) : 0;
    if (this.opened) this.o.logger.info({ source: this.name, path: this.o.path }, 'export file opened');
    this.opened = true;
    return true;
  }

  /**
   * Reads whole any backup last written no earlier than the file we finished (`after`) and
   * no later than the file we are about to follow (`upTo`), and not read before: files
   * rotated away before we ever saw them.
   */
  private async readSkippedBackups(after: bigint, upTo: bigint, currentIno: bigint): Promise<void> {
    const dir = dirname(this.o.path);
    const base = basename(this.o.path);
    const stem = basename(base, extname(base));
    const found: Array<{ path: string; mtime: bigint; ino: bigint; key: string }> = [];
    for (const name of await this.fs.readdir(dir)) {
      if (name === base || !name.startsWith(stem) || name.endsWith('.gz')) continue;
      const st = await this.fs.stat(join(dir, name), { bigint: true }).catch(() => undefined);
      if (st === undefined || !st.isFile() || st.ino === currentIno) continue;
      const key = `${st.dev}:${st.ino}`;
      if (st.mtimeNs >= after && st.mtimeNs <= upTo && !this.finished.has(key)) found.push({ path: join(dir, name), mtime: st.mtimeNs, ino: st.ino, key });
    }
    // Coarse file-system clocks give equal mtimes to files written within a few ms of each
    // other; then the inode number (allocated in increasing order by common file systems) decides.
    found.sort((a, b) => (a.mtime !== b.mtime ? (a.mtime < b.mtime ? -1 : 1) : a.ino < b.ino ? -1 : 1));
    for (const f of found) {
      const h = await this.fs.open(f.path, 'r').catch(() => undefined);
      if (h === undefined) continue;
      // Marked before reading: a backup that fails half-way is not read again (no line twice).
      this.markFinished(f.key);
      this.o.logger.warn({ source: this.name, path: f.path }, 'export file was rotated more than once between reads; reading the skipped backup');
      const saved = { handle: this.handle, pos: this.pos };
      this.handle = h;
      this.pos = 0;
      try {
        await this.readToEnd();
        this.splitter.end();
      } catch (e) {
        // A half-read last line of the backup must not join the next file's first line.
        this.splitter.discard();
        throw e;
      } finally {
        this.handle = saved.handle;
        this.pos = saved.pos;
        await h.close().catch(() => undefined);
      }
    }
  }

  private markFinished(key: string): void {
    if (this.finished.size >= 64) this.finished.delete(this.finished.values().next().value as string);
    this.finished.add(key);
  }

  private async closeFile(): Promise<void> {
    const h = this.handle;
    this.handle = undefined;
    await h?.close();
  }

  private async readToEnd(): Promise<void> {
    const h = this.handle;
    if (h === undefined) return;
    let got = false;
    for (;;) {
      const { bytesRead } = await h.read(this.buf, 0, READ_SIZE, this.pos);
      if (bytesRead === 0) break;
      this.pos += bytesRead;
      got = true;
      this.splitter.push(this.buf, 0, bytesRead);
      if (this.stopped) break;
    }
    if (got) this.o.onData?.();
  }
}
