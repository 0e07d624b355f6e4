import { readdirSync, readFileSync } from 'node:fs';
import { chmod, cp, lstat, mkdir, readdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { CHECKS } from '../../domain/verification';

/**
 * The task-package corpus: correct packages on real data under fixtures/packages/<name>/, and
 * broken ones under fixtures/broken/<defect>/ as overlays: only the files that differ from a
 * good package, plus defect.json. An overlay file named `<path>.delete` deletes `<path>`.
 */
const PACKAGES_DIR = join(__dirname, '..', 'fixtures', 'packages');
const BROKEN_DIR = join(__dirname, '..', 'fixtures', 'broken');
const DEFECT_FILE = 'defect.json';
const DELETE_SUFFIX = '.delete';

const CHECK_NAMES = Object.values(CHECKS).flat();
export type CheckName = (typeof CHECK_NAMES)[number];

const defectSchema = z.strictObject({
  /** the good package this overlay applies to */
  base: z.string().min(1),
  /** the check that must catch the defect */
  failingCheck: z.enum(CHECK_NAMES as [CheckName, ...CheckName[]]),
  /** the defect, in one line */
  what: z.string().min(1),
  /** other checks the same defect fails with good reason, each with that reason (checks not run are not listed) */
  alsoFails: z.partialRecord(z.enum(CHECK_NAMES as [CheckName, ...CheckName[]]), z.string().min(1)),
});

export interface BrokenFixture extends z.infer<typeof defectSchema> {
  /** the overlay's folder name */
  defect: string;
}

export function listGoodPackages(): string[] {
  return readdirSync(PACKAGES_DIR).sort();
}

export function listBrokenFixtures(): BrokenFixture[] {
  const good = listGoodPackages();
  return readdirSync(BROKEN_DIR)
    .sort()
    .map((defect) => {
      const file = join(BROKEN_DIR, defect, DEFECT_FILE);
      const parsed = defectSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
      if (!parsed.success) throw new Error(`${file}: ${z.prettifyError(parsed.error)}`);
      if (!good.includes(parsed.data.base))
        throw new Error(`${file}: base ${parsed.data.base} is not one of ${good.join(', ')}`);
      return { defect, ...parsed.data };
    });
}

/**
 * The checks a broken fixture fails beyond its own and those its alsoFails names: none, when each
 * check fails only with good reason. A check not run because another failed is not counted.
 */
export function unexpectedFailures(
  fixture: BrokenFixture,
  checks: { name: string; passed: boolean; detail: string }[],
): string[] {
  const expected = new Set<string>([fixture.failingCheck, ...Object.keys(fixture.alsoFails)]);
  return checks
    .filter((c) => !c.passed && !expected.has(c.name) && !c.detail.startsWith('not run'))
    .map((c) => `${c.name}: ${c.detail}`);
}

/** The overlay's files (paths relative to it), defect.json excluded. */
export function overlayFiles(defect: string): string[] {
  const walk = (dir: string, prefix: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
      entry.isDirectory() ? walk(join(dir, entry.name), `${prefix}${entry.name}/`) : [`${prefix}${entry.name}`],
    );
  return walk(join(BROKEN_DIR, defect), '')
    .filter((path) => path !== DEFECT_FILE)
    .sort();
}

/** Where a file of a good package or of an overlay lies. */
export function fixtureFile(nameOrDefect: string, path: string): string {
  return join(listGoodPackages().includes(nameOrDefect) ? PACKAGES_DIR : BROKEN_DIR, nameOrDefect, path);
}

/**
 * Writes a good package, or a broken one (its base with the overlay applied), into `intoDir`
 * (created; must not hold anything yet), readable by everyone as the sandbox's /data must be.
 */
export async function materializePackage(nameOrDefect: string, intoDir: string): Promise<string> {
  const existing = await readdir(intoDir).catch(() => []);
  if (existing.length > 0) throw new Error(`${intoDir} is not empty`);
  await mkdir(intoDir, { recursive: true });
  if (listGoodPackages().includes(nameOrDefect)) {
    await cp(join(PACKAGES_DIR, nameOrDefect), intoDir, { recursive: true });
  } else {
    const fixture = listBrokenFixtures().find((f) => f.defect === nameOrDefect);
    if (!fixture) throw new Error(`no task package or broken fixture named ${nameOrDefect}`);
    await cp(join(PACKAGES_DIR, fixture.base), intoDir, { recursive: true });
    for (const path of overlayFiles(nameOrDefect)) {
      if (path.endsWith(DELETE_SUFFIX)) {
        // force: false, so an overlay that deletes what its base no longer has fails loudly
        await rm(join(intoDir, path.slice(0, -DELETE_SUFFIX.length)), { force: false });
      } else {
        await mkdir(dirname(join(intoDir, path)), { recursive: true });
        await cp(join(BROKEN_DIR, nameOrDefect, path), join(intoDir, path), { verbatimSymlinks: true });
      }
    }
  }
  await makeWorldReadable(intoDir);
  return intoDir;
}

/** chmod -R a+rX, leaving links (a hostile fixture's) unfollowed */
async function makeWorldReadable(path: string): Promise<void> {
  const info = await lstat(path);
  if (info.isSymbolicLink()) return;
  await chmod(path, info.mode | (info.isDirectory() ? 0o555 : 0o444));
  if (info.isDirectory()) {
    for (const entry of await readdir(path)) await makeWorldReadable(join(path, entry));
  }
}
