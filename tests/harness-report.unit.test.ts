import { describe, expect, it } from 'vitest';
import { HarnessReport, REPORT_NONCE_ENV } from '../sandbox/harness-report';

const line = (nonce: string, name: string, passed = true) =>
  `ANVIL-CHECK ${nonce} ${JSON.stringify({ name, passed, detail: `${name} detail` })}`;

describe('the assertion harness report', () => {
  it('takes only lines with its own nonce, and says where a harness that stopped stopped', () => {
    const report = new HarnessReport();
    const nonce = report.env[REPORT_NONCE_ENV]!;
    expect(nonce).toMatch(/^[0-9a-f]{32}$/);
    expect(new HarnessReport().env[REPORT_NONCE_ENV]).not.toBe(nonce);
    report.onLine(line(nonce, 'a', false));
    report.onLine(line('0'.repeat(32), 'b'));
    report.onLine(`ANVIL-CHECK ${nonce} {"name": "c", "pass`);
    report.onLine(line('', 'c'));
    expect(report.checks(['a', 'b', 'c'], 'timed out')).toEqual([
      { name: 'a', passed: false, detail: 'a detail' },
      { name: 'b', passed: false, detail: 'the assertion harness stopped in this check: timed out' },
      { name: 'c', passed: false, detail: 'not run: timed out' },
    ]);
  });

  it('fails a check reported twice: a forged line carried the nonce', () => {
    const report = new HarnessReport();
    const nonce = report.env[REPORT_NONCE_ENV]!;
    report.onLine(line(nonce, 'test.no_target', true));
    report.onLine(line(nonce, 'test.no_target', false));
    report.onLine(line(nonce, 'ids.unique', true));
    const [forged, honest] = report.checks(['test.no_target', 'ids.unique'], 'unused');
    expect(forged).toMatchObject({ passed: false, detail: expect.stringContaining('more than once') });
    expect(honest).toMatchObject({ passed: true });
  });
});
