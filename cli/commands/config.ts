import type { AnvilConfig } from '../../config';
import { sandboxImageTag } from '../../sandbox/image';

export const help = `anvil config
  Prints the resolved configuration as JSON (env vars > anvil.config.json > defaults).`;

export async function run(_argv: string[], config: AnvilConfig): Promise<number> {
  const resolved = {
    ...config,
    sandbox: { ...config.sandbox, image: config.sandbox.image ?? sandboxImageTag() },
    // never print a secret
    llm: {
      ...config.llm,
      apiKey: config.llm.apiKey ? '(set)' : undefined,
      apiKeys: Object.fromEntries(Object.keys(config.llm.apiKeys).map((k) => [k, '(set)'])),
    },
  };
  console.log(JSON.stringify(resolved, null, 2));
  return 0;
}
