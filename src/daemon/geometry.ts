// Window geometry: flags and environment first, then the model card, then the defaults.
import { ConfigError, type Config } from '../config/load.js';
import type { ModelCard } from '../core/model-card.js';

export interface Geometry {
  window: number;
  delta: number;
  minWindow: number;
}

export const DEFAULT_WINDOW = 1024;
export const DEFAULT_MIN_WINDOW = 16;

/** The windows the tracker cuts for this model; a ConfigError when the settings do not fit it. */
export function resolveGeometry(config: Pick<Config, 'window' | 'delta' | 'minWindow'>, card: ModelCard): Geometry {
  const window = config.window ?? card.window ?? DEFAULT_WINDOW;
  if (window > card.window) {
    throw new ConfigError([
      `SLIDING_WINDOW_SIZE=${window} is larger than the model's window (${card.window}): use at most ${card.window}, or a model trained for longer windows`,
    ]);
  }
  const delta = config.delta ?? (config.window === undefined ? card.delta : undefined) ?? Math.max(1, Math.floor(window / 4));
  if (delta > window) throw new ConfigError([`SLIDING_WINDOW_DELTA=${delta} exceeds the window size (${window})`]);
  const minWindow = Math.min(window, config.minWindow ?? card.minWindow ?? DEFAULT_MIN_WINDOW);
  return { window, delta, minWindow };
}
