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
}
