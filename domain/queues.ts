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

/**
 * The queue only the sandbox workers of one host poll: a Dojo session's steps follow its warm
 * container there. Several workers on one host share it (they share the Docker engine).
 */
export function hostQueue(prefix: string, kind: 'cpu' | 'gpu', hostId: string): string {
  return `${taskQueueName(prefix, kind)}-host-${hostId.replace(/[^A-Za-z0-9_.-]+/g, '_')}`;
}
