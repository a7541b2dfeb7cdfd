// Operators' allowances (`argos allow`, the allow command): until the next training, an
// allowed alert's program is not alerted for scores up to its score (and a little more:
// SCORE_BAND), an allowed program not at all. What they allowed joins the baseline, so the
// next model knows it; the allowances are cleared when it is installed.
import type { Allowance, SqliteStore } from '../store/store.js';

/** An allowed anomaly also covers scores up to this factor above the allowed one. */
export const SCORE_BAND = 1.25;

export class Allowances {
  private byProgram = new Map<string, Allowance[]>();

  constructor(private readonly store: Pick<SqliteStore, 'listAllowances'>) {}

  /** Reads them again (after the CLI or a command changed them). */
  reload(): void {
    const next = new Map<string, Allowance[]>();
    for (const a of this.store.listAllowances()) {
      const list = next.get(a.program) ?? [];
      list.push(a);
      next.set(a.program, list);
    }
    this.byProgram = next;
  }

  get size(): number {
    return this.byProgram.size;
  }

  /** True when an allowance covers an anomaly of `program` (its key, or its binary) scoring `score`. */
  coversAnomaly(program: string, binary: string, score: number): boolean {
    for (const a of [...(this.byProgram.get(program) ?? []), ...(program === binary ? [] : (this.byProgram.get(binary) ?? []))]) {
      if (a.scoreMax === null || score <= a.scoreMax * SCORE_BAND) return true;
    }
    return false;
  }

  /** True when the whole program (its key, or its binary) is allowed. */
  coversProgram(program: string, binary: string): boolean {
    return [...(this.byProgram.get(program) ?? []), ...(this.byProgram.get(binary) ?? [])].some((a) => a.scoreMax === null);
  }
}
