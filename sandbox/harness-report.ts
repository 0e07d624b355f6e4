import { randomBytes } from 'node:crypto';
import type { CheckResult } from '../domain/verification';

/** The environment variable that hands the assertion harness its run's secret. */
export const REPORT_NONCE_ENV = 'ANVIL_REPORT_NONCE';
const PREFIX = 'ANVIL-CHECK ';

/**
 * The assertion harness's report, read from its stdout: only lines carrying this run's nonce
 * count, so nothing package code writes (files in /workspace, lines without the secret) is taken
 * for a verdict. The harness reports each check once: a check reported twice means something else
 * knew the nonce, and it fails.
 */
export class HarnessReport {
  private readonly nonce = randomBytes(16).toString('hex');
  private readonly results = new Map<string, CheckResult>();
  private readonly duplicated = new Set<string>();

  /** what the run's spec must carry in `env` */
  get env(): Record<string, string> {
    return { [REPORT_NONCE_ENV]: this.nonce };
  }

  /** for RunOptions.onStdoutLine */
  readonly onLine = (line: string): void => {
    const head = `${PREFIX}${this.nonce} `;
    if (!line.startsWith(head)) return;
    try {
      const result = JSON.parse(line.slice(head.length)) as CheckResult;
      if (typeof result.name !== 'string' || typeof result.passed !== 'boolean' || typeof result.detail !== 'string')
        return;
      if (this.results.has(result.name)) this.duplicated.add(result.name);
      else this.results.set(result.name, result);
    } catch {
      // a cut line: that check counts as unreported
    }
  };

  /**
   * The checks `names` in that order; one the harness did not report fails with `why`: the first
   * such as where the harness stopped, the later ones as not run.
   */
  checks(names: readonly string[], why: string): CheckResult[] {
    const firstMissing = names.find((n) => !this.results.has(n));
    return names.map((name) => {
      if (this.duplicated.has(name)) {
        const detail = 'reported more than once: something besides the harness wrote into its report channel';
        return { name, passed: false, detail };
      }
      return (
        this.results.get(name) ?? {
          name,
          passed: false,
          detail: name === firstMissing ? `the assertion harness stopped in this check: ${why}` : `not run: ${why}`,
        }
      );
    });
  }
}
