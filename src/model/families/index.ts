// The model families `argos train --family` knows.
import type { Family } from './family.js';
import { ngramFamily } from './ngram.js';
import { stideFamily } from './stide.js';

export const FAMILIES: readonly Family[] = [ngramFamily, stideFamily];
export const DEFAULT_FAMILY = 'ngram';

export function familyByName(name: string): Family | undefined {
  return FAMILIES.find((f) => f.name === name);
}
