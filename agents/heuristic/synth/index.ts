import { deriveThresholds, extractDna } from '../../../domain/synth';
import { NO_USAGE } from '../../../domain/usage';
import type { SynthProvider } from '../../synth-roles';
import { develop } from './developer';
import { write } from './writer';

/** Synth's roles by rules and templates: offline and deterministic. */
export const heuristicSynthProvider: SynthProvider = {
  name: 'heuristic',
  usage: NO_USAGE,
  extractDna: async (seed) => extractDna(seed),
  develop: async (input) => develop(input),
  async thresholds({ metric, scores }) {
    const t = deriveThresholds(scores, metric);
    if (!t)
      throw new Error(`MLOps needs at least one baseline score and the oracle's score (got ${JSON.stringify(scores)})`);
    return t;
  },
  write: async (input) => write(input),
};
