import type { ChatRequest, Script, ScriptedReply } from './scripted-llm';

interface SentToolCall {
  id: string;
  function: { name: string; arguments: string };
}

/** What a tool message said, parsed (the openai policy sends compacted observations as JSON). */
function observed(request: ChatRequest, call: SentToolCall): Record<string, unknown> {
  const content = request.messages.find((m) => m.role === 'tool' && m.tool_call_id === call.id)?.content;
  try {
    return JSON.parse(content ?? '{}') as Record<string, unknown>;
  } catch {
    return {};
  }
}

const toolCall = (index: number, name: string, args: object): ScriptedReply => ({
  toolCalls: [{ id: `call_s${index}`, name, arguments: JSON.stringify(args) }],
});

/** Python that submits the sample submission as it is: valid for any Anvil task. */
function copyScript(from: string, to: string): string {
  return [
    'import pandas as pd',
    '',
    `submission = pd.read_csv(${JSON.stringify(from)})`,
    `submission.to_csv(${JSON.stringify(to)}, index=False)`,
    'print(len(submission), "rows written")',
    '',
  ].join('\n');
}

/**
 * A stand-in model that plays any Anvil task as a sensible agent would, from the conversation it
 * is sent alone (so one server can serve many episodes at once): it asks where the sample
 * submission lives, validates a script that submits it as it is, executes that script, and stops
 * with a text answer. A failed validation ends the episode too (it never executes blind).
 */
export function policyScript(): Script {
  return (request, index) => {
    if (!request.tools?.some((t) => t.function.name === 'request_info'))
      return { status: 400, error: 'the request has no Anvil environment tools' };
    const calls = request.messages.flatMap((m) =>
      m.role === 'assistant' ? ((m.tool_calls ?? []) as SentToolCall[]) : [],
    );
    const last = calls.at(-1);
    if (!last) return toolCall(index, 'request_info', { kind: 'sample_submission' });
    const result = observed(request, last);
    switch (last.function.name) {
      case 'request_info': {
        const info = (result.info ?? {}) as { path?: string; writeTo?: string };
        return toolCall(index, 'validate_code', {
          code: copyScript(info.path ?? '/data/sample_submission.csv', info.writeTo ?? '/workspace/submission.csv'),
        });
      }
      case 'validate_code': {
        const valid = result.status === 'ok' && (result.submission as { valid?: boolean } | undefined)?.valid !== false;
        if (!valid) return { content: `The sample submission did not validate (${String(result.message)}); stopping.` };
        return toolCall(index, 'execute_code', JSON.parse(last.function.arguments) as object);
      }
      default:
        return { content: `Submitted the sample submission (${String(result.message)}). Done.` };
    }
  };
}
