import { DefaultLogger, Runtime } from '@temporalio/worker';

/**
 * Worker logs at WARN and above only: callers print their own progress. Activity-only workers
 * (cpu, gpu) are expected to register no workflows, so that warning is dropped. Call before the
 * first NativeConnection or Worker; later calls do nothing.
 */
export function installQuietRuntime(): void {
  try {
    Runtime.install({
      logger: new DefaultLogger('WARN', (entry) => {
        if (!entry.message.startsWith('No workflows registered')) console.error(`[${entry.level}] ${entry.message}`, entry.meta ?? '');
      }),
    });
  } catch {
    // already installed in this process
  }
}
