import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChatCompletionTool } from 'openai/resources/chat/completions';
import { z } from 'zod';
import type { AnvilConfig } from '../../config';
import type { DatasetProfile } from '../../domain/profile';
import { packageFilesSchema } from '../../domain/task';
import { CHECKS } from '../../domain/verification';
import { proposalSchema } from '../../domain/proposal';
import { LAYOUT } from '../../package/layout';
import { type AgentProvider, type Design, designSchema, type ToolRequest } from '../roles';
import { LlmClient, type Message } from './client';

export const PROMPTS_DIR = join(__dirname, 'prompts');
const prompt = (role: string) => readFileSync(join(PROMPTS_DIR, `${role}.md`), 'utf8');

const RUN_PYTHON: ChatCompletionTool = {
  type: 'function',
  function: {
    name: 'run_python',
    description:
      'Runs Python 3 (pandas, numpy, scikit-learn) in a sandbox with the dataset at /data/data.csv (read-only); returns exit status, stdout and stderr tails.',
    parameters: {
      type: 'object',
      properties: { code: { type: 'string' } },
      required: ['code'],
      additionalProperties: false,
    },
  },
};

const reviewOutput = z.object({
  checks: z
    .array(
      z.object({
        name: z.enum(CHECKS.review),
        passed: z.boolean(),
        detail: z.string().min(1),
        evidence: z.object({ columns: z.array(z.string()).optional() }).optional(),
      }),
    )
    .refine((checks) => CHECKS.review.every((name) => checks.some((c) => c.name === name)), {
      message: `give one verdict for each of ${CHECKS.review.join(', ')}`,
    }),
});

/**
 * The Brainstormer's reply, bounded where a grammar-constrained small model would ramble: at most
 * `maxTasks` proposals, short titles and one-sentence rationales (SmolLM2 spent its tokens on a
 * second proposal and never closed the first one's rationale).
 */
const brainstormOutput = (maxTasks: number) =>
  z.object({
    proposals: z
      .array(proposalSchema.extend({ title: z.string().min(1).max(120), rationale: z.string().min(1).max(400) }))
      .min(1)
      .max(maxTasks),
  });

/**
 * What the model sees of a profile: enough to reason, small enough to send. Every column with its
 * judgement (`notTarget`), the candidates with `outcome`, the time index and keys, the README.
 */
export function profileForModel(profile: DatasetProfile) {
  return {
    name: profile.name,
    rows: profile.rows,
    source: {
      files: profile.source.files.map((f) => ({ path: f.path.split('/').at(-1)!, sha256: f.sha256, bytes: f.bytes })),
      format: profile.source.format,
    },
    dataFile: LAYOUT.rawTable,
    columns: profile.columns.map((c) => ({ ...c, top: c.top?.slice(0, 10) })),
    candidateTargets: profile.candidateTargets,
    idColumns: profile.idColumns,
    timeColumns: profile.timeColumns,
    textColumns: profile.textColumns,
    leakageSuspects: profile.leakageSuspects,
    keyColumns: profile.keyColumns,
    timeIndex: profile.timeIndex,
    documentation: profile.documentation,
  };
}

const user = (content: unknown): Message => ({ role: 'user', content: JSON.stringify(content) });

/** Every role through one OpenAI-compatible endpoint. One instance per activity call (it counts usage). */
export function createOpenAiProvider(llm: AnvilConfig['llm'], failuresDir: string): AgentProvider {
  const client = new LlmClient(llm, failuresDir);
  const value = <T>(reply: Awaited<ReturnType<typeof client.structured<T>>>, role: string): T => {
    if (reply.kind !== 'value') throw new Error(`the ${role} asked to run code, which only the Designer may`);
    return reply.value;
  };
  return {
    name: 'openai',
    usage: client.usage,
    async brainstorm({ profile, maxTasks }) {
      const reply = await client.structured('brainstormer', brainstormOutput(maxTasks), [
        { role: 'system', content: prompt('brainstormer') },
        user({ maxTasks, profile: profileForModel(profile) }),
      ]);
      return value(reply, 'Brainstormer').proposals.slice(0, maxTasks);
    },
    async design({ profile, proposal, round, previous, resume, toolsAllowed }): Promise<Design | ToolRequest> {
      const messages: Message[] = resume
        ? [
            ...(resume.conversation as Message[]),
            ...resume.toolResults.map((r): Message => ({ role: 'tool', tool_call_id: r.id, content: r.output })),
          ]
        : [
            { role: 'system', content: prompt('designer') },
            user({
              round,
              proposal,
              profile: profileForModel(profile),
              ...(previous
                ? {
                    previousFiles: previous.design.files,
                    previousNotes: previous.design.notes,
                    failedChecks: previous.failed.map(({ name, detail, evidence }) => ({
                      name,
                      detail,
                      evidence: JSON.stringify(evidence ?? null).slice(0, 1500),
                    })),
                  }
                : {}),
            }),
          ];
      const reply = await client.structured(
        'designer',
        designSchema,
        messages,
        toolsAllowed ? [RUN_PYTHON] : undefined,
      );
      if (reply.kind === 'value') return reply.value;
      return {
        conversation: reply.messages,
        toolCalls: reply.calls.map((c) => {
          let code = '';
          try {
            code = String((JSON.parse(c.arguments) as { code?: unknown }).code ?? '');
          } catch {
            code = `raise SystemExit("the tool call's arguments were not JSON: ${c.arguments.slice(0, 200).replace(/["\\\n]/g, ' ')}")`;
          }
          return { id: c.id, code: code || 'raise SystemExit("run_python was called without code")' };
        }),
      };
    },
    async refactor(files) {
      const reply = await client.structured('refactorer', z.object({ files: packageFilesSchema }), [
        { role: 'system', content: prompt('refactorer') },
        user({ files }),
      ]);
      return value(reply, 'Refactorer').files;
    },
    async review({ manifest, description, trainColumns, testColumns, targetCounts, profile }) {
      const leakageSuspects = profile?.leakageSuspects.filter((s) => s.target === manifest.target) ?? [];
      const reply = await client.structured('reviewer', reviewOutput, [
        { role: 'system', content: prompt('reviewer') },
        user({ manifest, description, trainColumns, testColumns, targetCounts, leakageSuspects }),
      ]);
      return value(reply, 'Reviewer').checks;
    },
  };
}
