import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AnvilConfig } from '../../config';
import { dnaSchema } from '../../domain/synth';
import { type SynthProvider, synthDesignSchema, thresholdsSchema, writingSchema } from '../synth-roles';
import { LlmClient, type Message, type Reply } from './client';
import { PROMPTS_DIR } from './index';

const prompt = (role: string) => readFileSync(join(PROMPTS_DIR, `${role}.md`), 'utf8');
const ask = (role: string, content: unknown): Message[] => [
  { role: 'system', content: prompt(role) },
  { role: 'user', content: JSON.stringify(content) },
];

function value<T>(reply: Reply<T>, role: string): T {
  if (reply.kind !== 'value') throw new Error(`the ${role} asked to run code, which no Synth role may`);
  return reply.value;
}

/** Synth's roles through one OpenAI-compatible endpoint. One instance per activity call (it counts usage). */
export function createOpenAiSynthProvider(llm: AnvilConfig['llm'], failuresDir: string): SynthProvider {
  const client = new LlmClient(llm, failuresDir);
  return {
    name: 'openai',
    usage: client.usage,
    async extractDna(seed) {
      return value(await client.structured('strategist', dnaSchema, ask('strategist', { seed })), 'Data Strategist');
    },
    async develop({ dna, taskId, rows, round, previous }) {
      const content = {
        taskId,
        rows,
        round,
        dna,
        ...(previous
          ? {
              previous: {
                files: previous.design.files,
                schema: previous.design.schema,
                rule: previous.design.rule,
                notes: previous.design.notes,
              },
              failedChecks: previous.failed.map(({ name, detail, evidence }) => ({
                name,
                detail,
                evidence: JSON.stringify(evidence ?? null).slice(0, 1500),
              })),
            }
          : {}),
      };
      return value(await client.structured('developer', synthDesignSchema, ask('developer', content)), 'ML Developer');
    },
    async thresholds({ metric, scores }) {
      return value(await client.structured('mlops', thresholdsSchema, ask('mlops', { metric, scores })), 'MLOps');
    },
    async write(input) {
      return value(await client.structured('writer', writingSchema, ask('writer', input)), 'Writer');
    },
  };
}
