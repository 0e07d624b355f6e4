import { existsSync, lstatSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { taskManifestSchema } from '../domain/task';
import { PACKAGE_FILES } from '../package/layout';
import {
  fixtureFile,
  listBrokenFixtures,
  listGoodPackages,
  overlayFiles,
  unexpectedFailures,
} from './helpers/fixture-packages';

// The task-package corpus that tests/verify-assertions.int.test.ts runs the verifier on: its shape.
const good = listGoodPackages();
const broken = listBrokenFixtures();

describe('fixture corpus', () => {
  it('has at least three good packages and fourteen broken ones', () => {
    expect(good.length).toBeGreaterThanOrEqual(3);
    expect(broken.length).toBeGreaterThanOrEqual(14);
  });

  it.each(good)('%s has every package file and a valid task.json', (name) => {
    for (const file of PACKAGE_FILES) expect(existsSync(fixtureFile(name, file)), file).toBe(true);
    const manifest = taskManifestSchema.parse(JSON.parse(readFileSync(fixtureFile(name, 'task.json'), 'utf8')));
    expect(manifest.id).toBe(name);
  });

  it.each(broken)('$defect is an overlay that changes $base', ({ defect, base }) => {
    expect(good).not.toContain(defect);
    const files = overlayFiles(defect);
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      // a hostile overlay's link is never followed, here neither
      if (file.endsWith('.delete') || lstatSync(fixtureFile(defect, file)).isSymbolicLink()) continue;
      const original = fixtureFile(base, file);
      if (existsSync(original))
        expect(readFileSync(fixtureFile(defect, file), 'utf8'), file).not.toBe(readFileSync(original, 'utf8'));
    }
  });

  it.each(broken)('$defect names other failing checks, never its own', (fixture) => {
    expect(Object.keys(fixture.alsoFails)).not.toContain(fixture.failingCheck);
  });

  it('counts a failing check as unexpected unless it is the defect’s own, named in alsoFails, or not run', () => {
    const fixture = { defect: 'd', base: 'b', what: 'w', failingCheck: 'ids.unique' as const, alsoFails: {} };
    const checks = [
      { name: 'ids.unique', passed: false, detail: 'duplicated ids' },
      { name: 'baseline.valid', passed: false, detail: 'invalid submission' },
      { name: 'metric.deterministic', passed: false, detail: 'not run: prepare.runs failed' },
      { name: 'sample.columns', passed: true, detail: 'ok' },
    ];
    expect(unexpectedFailures(fixture, checks)).toEqual(['baseline.valid: invalid submission']);
    expect(unexpectedFailures({ ...fixture, alsoFails: { 'baseline.valid': 'same ids' } }, checks)).toEqual([]);
  });
});
