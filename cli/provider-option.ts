import { PROVIDERS, type ProviderName } from '../domain/providers';
import { inputError } from './failure-report';

/** `--provider`'s value; any other value is an input error (exit 2) saying what is allowed. */
export function providerOption(value: string): ProviderName {
  if (PROVIDERS.includes(value as ProviderName)) return value as ProviderName;
  throw inputError(`--provider must be one of ${PROVIDERS.join(', ')} (got ${value})`);
}
