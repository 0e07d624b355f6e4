import { DefaultLogger, type LogEntry, Runtime } from '@temporalio/worker';

/** One line per log entry: its message and the ids that say where, never a stack. */
function brief(entry: LogEntry): string {
  const meta = (entry.meta ?? {}) as Record<string, unknown>;
  const where = ['workflowType', 'workflowId', 'activityType', 'attempt']
    .filter((key) => meta[key] !== undefined)
    .map((key) => `${key}=${String(meta[key])}`);
  const error = meta.error instanceof Error ? `: ${meta.error.message}` : '';
  return `[${entry.level}] ${entry.message}${error}${where.length ? ` (${where.join(' ')})` : ''}`;
}

/**
 * Worker logs at WARN and above only, one line each: callers print their own progress. Activity-only
 * workers (cpu, gpu) are expected to register no workflows, so that warning is dropped. With
 * `failures: false` (a CLI command whose embedded workers run its own work), failed activities and
 * workflows are not logged either: the command reports the failure itself, with its cause. Call
 * before the first NativeConnection or Worker; later calls do nothing. ANVIL_DEBUG logs everything.
 */
export function installQuietRuntime({ failures = true }: { failures?: boolean } = {}): void {
  const debug = Boolean(process.env.ANVIL_DEBUG);
  try {
    Runtime.install({
      logger: new DefaultLogger(debug ? 'DEBUG' : 'WARN', (entry) => {
        if (debug) return console.error(`[${entry.level}] ${entry.message}`, entry.meta ?? '');
        if (entry.message.startsWith('No workflows registered')) return;
        if (!failures && (entry.meta as { error?: unknown } | undefined)?.error !== undefined) return;
        console.error(brief(entry));
      }),
    });
  } catch {
    // already installed in this process
  }
}
