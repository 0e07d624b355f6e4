/** The four kinds of worker; each polls its own task queue `<prefix>-<kind>`. */
export const QUEUE_KINDS = ['control', 'llm', 'cpu', 'gpu'] as const;
export type QueueKind = (typeof QUEUE_KINDS)[number];

export function taskQueueName(prefix: string, kind: QueueKind): string {
  return `${prefix}-${kind}`;
}

/**
 * The queue of another worker kind beside a workflow's own control queue: workflows learn the
 * prefix from the queue they run on, so a whole deployment (or a test) is renamed by one setting.
 */
export function siblingQueue(controlQueue: string, kind: QueueKind): string {
  const prefix = controlQueue.replace(/-control$/, '');
  return taskQueueName(prefix, kind);
}
