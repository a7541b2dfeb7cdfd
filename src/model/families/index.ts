// The model families `argos train --family` knows.
import type { Family } from './family.js';
import { ngramFamily } from './ngram.js';
import { stideFamily } from './stide.js';
import { gruFamily } from './gru.js';
import { ensembleFamily } from './ensemble.js';

const MEMBER_FAMILIES: readonly Family[] = [ngramFamily, stideFamily, gruFamily];
export const FAMILIES: readonly Family[] = [...MEMBER_FAMILIES, ensembleFamily(() => MEMBER_FAMILIES)];
export const DEFAULT_FAMILY = 'ngram';

export function familyByName(name: string): Family | undefined {
  return FAMILIES.find((f) => f.name === name);
}
