import { NO_USAGE } from '../../domain/usage';
import type { AgentProvider } from '../roles';
import { brainstorm } from './brainstormer';
import { design } from './designer';
import { refactor } from './refactorer';
import { review } from './reviewer';

/** The offline, deterministic provider: every role by rules and templates. */
export const heuristicProvider: AgentProvider = {
  name: 'heuristic',
  usage: NO_USAGE,
  brainstorm: async (input) => brainstorm(input),
  design: async (input) => design(input),
  refactor: async (files) => refactor(files),
  review: async (input) => review(input),
};
