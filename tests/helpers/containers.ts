import type Docker from 'dockerode';

/** Sandbox containers (any state) whose run belongs to this workflow. */
export async function containersOf(docker: Docker, workflowId: string): Promise<Docker.ContainerInfo[]> {
  const all = await docker.listContainers({ all: true, filters: { label: ['anvil'] } });
  return all.filter((c) => (c.Labels['anvil.run'] ?? '').startsWith(`${workflowId}/`));
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}
