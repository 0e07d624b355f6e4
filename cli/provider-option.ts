import { PROVIDERS, type ProviderName } from '../domain/providers';

/** `--provider`'s value, or undefined after saying what is allowed (the command exits 2). */
export function providerOption(value: string): ProviderName | undefined {
  if (PROVIDERS.includes(value as ProviderName)) return value as ProviderName;
  console.error(`--provider must be one of ${PROVIDERS.join(', ')} (got ${value})`);
  return undefined;
}
