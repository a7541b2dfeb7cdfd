// Adam over a set of named Float32Array parameters, with gradient clipping by global norm.

export class Adam<K extends string> {
  /** First and second moment estimates of each named parameter. */
  private readonly moments: { name: K; m: Float64Array; v: Float64Array }[];
  private t = 0;

  constructor(private readonly params: Record<K, Float32Array>, names: readonly K[], private readonly beta1 = 0.9, private readonly beta2 = 0.999, private readonly eps = 1e-8) {
    this.moments = names.map((name) => ({ name, m: new Float64Array(params[name].length), v: new Float64Array(params[name].length) }));
  }

  /** Scales `grads` so that their global L2 norm is at most `clip`; returns the norm before. */
  static clip<K extends string>(grads: Record<K, Float32Array>, names: readonly K[], clip: number): number {
    let sq = 0;
    for (const n of names) {
      const g = grads[n];
      for (let i = 0; i < g.length; i++) sq += g[i] * g[i];
    }
    const norm = Math.sqrt(sq);
    if (norm > clip) {
      const s = clip / norm;
      for (const n of names) {
        const g = grads[n];
        for (let i = 0; i < g.length; i++) g[i] *= s;
      }
    }
    return norm;
  }

  step(grads: Record<K, Float32Array>, lr: number): void {
    this.t++;
    const b1 = this.beta1;
    const b2 = this.beta2;
    const c1 = 1 - Math.pow(b1, this.t);
    const c2 = 1 - Math.pow(b2, this.t);
    for (const { name, m, v } of this.moments) {
      const p = this.params[name];
      const g = grads[name];
      for (let i = 0; i < p.length; i++) {
        const gi = g[i];
        m[i] = b1 * m[i] + (1 - b1) * gi;
        v[i] = b2 * v[i] + (1 - b2) * gi * gi;
        p[i] -= (lr * (m[i] / c1)) / (Math.sqrt(v[i] / c2) + this.eps);
      }
    }
  }
}
