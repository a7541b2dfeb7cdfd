// The model card, `model.json` in a model folder (DESIGN.md "Model contract").

export interface ModelCard {
  name: string;
  family: string;
  window: number;
  delta: number;
  threshold: number;
  vocabulary: number;
  /** Minimum length of a partial window worth scoring at exit. */
  minWindow?: number;
  training: {
    data: string;
    sha256: string;
    traces: number;
    syscalls: number;
    abi: string;
    seed: number;
    targetFpr?: number;
  };
  metrics: Record<string, number>;
  created: string;
  /**
   * Per-program models: every program seen in training (its key, core/program.ts) → its
   * profile, 0 being the shared fallback for programs with too little data of their own.
   * A program not listed is new to the model. Absent: the model knows no programs.
   */
  programs?: Record<string, number>;
  /**
   * Per profile (index = id): its threshold on the raw score and what it was calibrated on.
   * The graph then takes a `profile` input and divides each score by its profile's
   * threshold, so `threshold` above is 1.
   */
  profiles?: ProfileCard[];
}

export interface ProfileCard {
  /** The program (null for the fallback, profile 0). */
  program: string | null;
  traces: number;
  syscalls: number;
  /** Held-out calibration units (traces, and pieces of long traces). */
  heldOut: number;
  threshold: number;
  /** quantile: the target false-alarm rate's quantile; few: the conservative rule for few units. */
  rule: 'quantile' | 'few';
}
