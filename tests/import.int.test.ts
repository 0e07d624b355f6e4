import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { parse } from 'csv-parse/sync';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gradeInSandbox } from '../activities/grading';
import type { RunResult, SandboxLimits } from '../domain/sandbox';
import { taskManifestSchema } from '../domain/task';
import { ImportError, type ImportOptions, type ImportResult } from '../package/import';
import { importMleBench } from '../package/import/mle-bench';
import { importMleDojo } from '../package/import/mle-dojo';
import { slugify } from '../package/import/naming';
import { SHIM_FALLBACKS, SHIM_MODULES } from '../package/import/shim';
import { submissionColumns } from '../package/import/submission-columns';
import { PACKAGE_FILES } from '../package/layout';
import { DockerSandbox } from '../sandbox/docker';

// The importers on the two hand-made competitions of tests/fixtures/imports/, and the packages they
// write run for real: prepare.py and metric.py in the Docker sandbox, grading through gradeInSandbox.
const FIXTURES = join(__dirname, 'fixtures', 'imports');
const BENCH = {
  competition: join(FIXTURES, 'mle-bench/mlebench/competitions/palmer-penguins'),
  raw: join(FIXTURES, 'mle-bench/data/palmer-penguins/raw'),
};
const DOJO = {
  competition: join(FIXTURES, 'mle-dojo/mledojo/competitions/car-fuel-efficiency'),
  raw: join(FIXTURES, 'mle-dojo/data/prepared/car-fuel-efficiency/raw'),
};
const limits: SandboxLimits = { cpus: 1, memoryMb: 1024, pids: 64, timeoutS: 120, outputBytes: 64 * 1024, tmpMb: 64 };

const root = mkdtempSync(join(tmpdir(), 'anvil-import-test-'));
const sandbox = new DockerSandbox(new Docker(), { runsDir: join(root, 'runs') });
afterAll(() => rmSync(root, { recursive: true, force: true }));

let runs = 0;
const runKey = () => `import-test/${process.pid}/${runs++}`;
const run = (code: string, dataDir: string): Promise<RunResult> =>
  sandbox.run({ code, dataDir, limits }, { runKey: runKey() });
const fresh = (name: string) => join(root, `${name}-${runs++}`);
const csvRows = (path: string) => parse(readFileSync(path, 'utf8'), { columns: true }) as Record<string, string>[];

/** Runs the package's prepare.py as the verifier does: raw/ read-only, public/ and private/ in the workspace. */
const PREPARE_DRIVER = `
import importlib.util, sys
from pathlib import Path
spec = importlib.util.spec_from_file_location("prepare", "/data/prepare.py")
module = sys.modules["prepare"] = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
work = Path("/workspace")
for sub in ("public", "private"):
    (work / sub).mkdir()
module.prepare(Path("/data/raw"), work / "public", work / "private")
`;

/** A copy of a fixture competition folder, changed by `edit` (file → new text). */
function editedCopy(from: string, edit: Record<string, (text: string) => string>): string {
  const dir = fresh('edited');
  cpSync(from, dir, { recursive: true });
  for (const [file, change] of Object.entries(edit))
    writeFileSync(join(dir, file), change(readFileSync(join(dir, file), 'utf8')));
  return dir;
}

const CASES = [
  {
    name: 'MLE-bench',
    importer: importMleBench,
    ...BENCH,
    taskId: 'palmer-penguins',
    manifest: {
      taskType: 'multiclass-classification',
      target: 'Species',
      idColumn: 'PenguinId',
      metric: { name: 'accuracy', higherIsBetter: true, bounds: [0, 1] },
      source: { kind: 'mle-bench', competition: 'palmer-penguins' },
    },
    // 12 source rows, one without a score
    boards: { public: 11 },
    firstEntry: { entry: '10428', score: '1.00000', kind: 'human', board: 'public' },
    best: 1,
    wrongColumn: /Submission must have a `Species` column/,
  },
  {
    name: 'MLE-Dojo',
    importer: importMleDojo,
    ...DOJO,
    taskId: 'car-fuel-efficiency',
    manifest: {
      taskType: 'regression',
      target: 'Miles_per_Gallon',
      idColumn: 'id',
      metric: { name: 'rmse', higherIsBetter: false, bounds: [0, null] },
      source: { kind: 'mle-dojo', competition: 'car-fuel-efficiency' },
    },
    // 10 public rows, 11 private ones of which one has no score
    boards: { public: 10, private: 10 },
    firstEntry: { entry: 'row-1', score: '2.41532', kind: 'human', board: 'public' },
    best: 0,
    wrongColumn: /Missing required columns in submission: Miles_per_Gallon/,
  },
] as const;

describe.each(CASES)('importing the $name fixture', (c) => {
  let result: ImportResult;
  let prepared: Promise<RunResult> | undefined;
  beforeAll(async () => {
    result = await c.importer(c.competition, { outDir: join(root, `${c.taskId}-out`), rawDir: c.raw });
  });

  /** prepare.py run once in the sandbox; its answers are put into the package for grading. */
  function prepare(): Promise<RunResult> {
    prepared ??= run(PREPARE_DRIVER, result.packageDir).then((r) => {
      if (r.exitCode === 0) {
        mkdirSync(join(result.packageDir, 'private'));
        cpSync(join(r.workspaceDir, 'private', 'answers.csv'), join(result.packageDir, 'private', 'answers.csv'));
      }
      return r;
    });
    return prepared;
  }
  const grade = (submissionFile: string) =>
    gradeInSandbox(sandbox, {
      packageDir: result.packageDir,
      submissionFile,
      scratchDir: join(root, 'grading'),
      runKey: runKey(),
    });
  /** The sample submission with `change` applied to its rows, written to a file. */
  async function variant(change: (rows: Record<string, string>[]) => Record<string, string>[]): Promise<string> {
    const { workspaceDir } = await prepare();
    const rows = change(csvRows(join(workspaceDir, 'public', 'sample_submission.csv')));
    const file = join(fresh('submission'), 'submission.csv');
    mkdirSync(join(file, '..'));
    const columns = Object.keys(rows[0]!);
    writeFileSync(file, [columns.join(','), ...rows.map((r) => columns.map((k) => r[k]).join(','))].join('\n') + '\n');
    return file;
  }

  it('writes a valid task.json with the direction, target and id column it inferred', () => {
    expect(result.taskId).toBe(c.taskId);
    const manifest = taskManifestSchema.parse(JSON.parse(readFileSync(join(result.packageDir, 'task.json'), 'utf8')));
    expect(manifest).toMatchObject({
      id: c.taskId,
      modality: 'tabular',
      resources: { cpus: 1, memoryMb: 2048, gpu: false, timeLimitS: 600 },
      ...c.manifest,
    });
    expect(result.warnings.some((w) => w.includes('placeholder'))).toBe(true);
    expect(result.warnings.some((w) => /skipped 1 row\(s\) without a score/.test(w))).toBe(true);
  });

  it("turns the source leaderboard into Anvil's, one human entry per scored row", () => {
    const text = readFileSync(join(result.packageDir, 'leaderboard.csv'), 'utf8');
    expect(text.split('\n')[0]).toBe('entry,score,kind,board');
    const rows = parse(text, { columns: true }) as Record<string, string>[];
    expect(rows[0]).toEqual(c.firstEntry);
    const counts: Record<string, number> = {};
    for (const row of rows) {
      expect(row.kind).toBe('human');
      expect(Number.isFinite(Number(row.score))).toBe(true);
      counts[row.board!] = (counts[row.board!] ?? 0) + 1;
    }
    expect(counts).toEqual(c.boards);
  });

  it('writes every package file and a copy of the raw data', () => {
    for (const file of PACKAGE_FILES) expect(existsSync(join(result.packageDir, file)), file).toBe(true);
    expect(readdirSync(join(result.packageDir, 'raw')).sort()).toEqual(readdirSync(c.raw).sort());
    const metric = readFileSync(join(result.packageDir, 'metric.py'), 'utf8');
    expect(metric).toMatch(/^class InvalidSubmission\(Exception\):/m);
    expect(metric).toMatch(/^def grade\(submission, answers\):/m);
  });

  it('runs the converted prepare.py in the sandbox: Anvil public files, the answers moved to private/answers.csv', async () => {
    const r = await prepare();
    expect(r.exitCode, r.stderr).toBe(0);
    expect(readdirSync(r.workspaceDir).sort()).toEqual(['private', 'public']); // the scratch copy of raw/ is gone
    expect(readdirSync(join(r.workspaceDir, 'private'))).toEqual(['answers.csv']);
    for (const file of ['train.csv', 'test.csv', 'sample_submission.csv'])
      expect(existsSync(join(r.workspaceDir, 'public', file)), file).toBe(true);
    const answers = csvRows(join(r.workspaceDir, 'private', 'answers.csv'));
    const test = csvRows(join(r.workspaceDir, 'public', 'test.csv'));
    expect(answers.map((a) => a[c.manifest.idColumn]).sort()).toEqual(test.map((t) => t[c.manifest.idColumn]).sort());
    expect(Object.keys(test[0]!)).not.toContain(c.manifest.target);
  });

  it('grades in the sandbox: the sample is valid, the answers score best, a wrong column or NaN predictions are invalid', async () => {
    const { workspaceDir } = await prepare();
    const sample = await grade(join(workspaceDir, 'public', 'sample_submission.csv'));
    expect(sample.valid, sample.error).toBe(true);
    expect(sample.score).not.toBe(c.best);
    const perfect = await grade(join(workspaceDir, 'private', 'answers.csv'));
    // The answers score best on every row, the public share and the private one alike.
    expect(perfect).toEqual({ valid: true, score: c.best, public: c.best, private: c.best });

    const target = c.manifest.target;
    const renamed = await grade(
      await variant((rows) => rows.map(({ [target]: value, ...rest }) => ({ ...rest, prediction: value! }))),
    );
    expect(renamed.valid).toBe(false);
    expect(renamed.error).toMatch(c.wrongColumn); // InvalidSubmission's message, not a crash of metric.py
    const missing = await grade(await variant((rows) => rows.map((row) => ({ ...row, [target]: '' }))));
    expect(missing.valid).toBe(false);
    expect(missing.error).toMatch(/could not score this submission/);
  });

  it('runs the placeholder baseline on the prepared data to a valid submission', async () => {
    const { workspaceDir } = await prepare();
    const baseline = await run(
      readFileSync(join(result.packageDir, 'solutions', 'baseline.py'), 'utf8'),
      join(workspaceDir, 'public'),
    );
    expect(baseline.exitCode, baseline.stderr).toBe(0);
    const graded = await grade(join(baseline.workspaceDir, 'submission.csv'));
    expect(graded.valid, graded.error).toBe(true);
  });
});

describe('importer errors and variants', () => {
  const opts = (name: string): ImportOptions => ({ outDir: fresh(name), rawDir: BENCH.raw });
  async function importError(promise: Promise<unknown>): Promise<ImportError> {
    const err = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ImportError);
    return err as ImportError;
  }

  it('refuses a competition without raw data, saying that the benchmark ships none and what to pass', async () => {
    const outDir = fresh('no-raw');
    const err = await importError(importMleBench(BENCH.competition, { outDir }));
    expect(err.message).toMatch(/MLE-bench competition folders do not ship data.*no raw\/ folder.*rawDir/);
    expect(existsSync(join(outDir, 'palmer-penguins'))).toBe(false);
    const missing = await importError(importMleDojo(DOJO.competition, { outDir, rawDir: join(root, 'nowhere') }));
    expect(missing.message).toMatch(/raw data folder .*nowhere does not exist/);
  });

  it('takes the raw data from <competition>/raw when no raw folder is passed', async () => {
    const dir = fresh('with-raw');
    cpSync(DOJO.competition, dir, { recursive: true });
    cpSync(DOJO.raw, join(dir, 'raw'), { recursive: true });
    const { packageDir } = await importMleDojo(dir, { outDir: fresh('with-raw-out'), taskId: 'cars-mpg' });
    expect(packageDir).toMatch(/cars-mpg$/);
    expect(readdirSync(join(packageDir, 'raw')).sort()).toEqual(['test.csv', 'train.csv']);
  });

  it('refuses to write into a package folder that is not empty', async () => {
    const o = opts('twice');
    await importMleBench(BENCH.competition, o);
    const err = await importError(importMleBench(BENCH.competition, o));
    expect(err.message).toMatch(/palmer-penguins already exists and is not empty/);
  });

  it.each([
    [
      'grade.py',
      'from mlebench.competitions.utils import prepare_for_accuracy_metric',
      'from mlebench.competitions.utils import get_ids_from_tf_records, prepare_for_accuracy_metric',
      /grade\.py:4 imports get_ids_from_tf_records from mlebench\.competitions\.utils/,
    ],
    [
      'prepare.py',
      'from mlebench.utils import read_csv',
      'import mlebench.registry',
      /prepare\.py:5 imports mlebench\.registry,/,
    ],
    [
      'prepare.py',
      'from mlebench.utils import read_csv',
      'import mlebench.utils as mu\nread_csv = mu.load_yaml',
      /prepare\.py:5 imports mlebench\.utils\.load_yaml/,
    ],
  ])('refuses %s importing a helper the stand-in lacks (%s → %s)', async (file, from, to, message) => {
    const dir = editedCopy(BENCH.competition, { [file]: (text) => text.replace(from, to) });
    const o = opts('unknown-helper');
    const err = await importError(importMleBench(dir, o));
    expect(err.message).toMatch(message);
    expect(err.message).toMatch(/mlebench_shim\.py/);
    expect(existsSync(o.outDir)).toBe(false);
  });

  it('refuses a leaderboard that is a Git LFS pointer', async () => {
    const dir = editedCopy(BENCH.competition, {
      'leaderboard.csv': () => 'version https://git-lfs.github.com/spec/v1\noid sha256:0123\nsize 125841\n',
    });
    const err = await importError(importMleBench(dir, opts('lfs')));
    expect(err.message).toMatch(/leaderboard\.csv is a Git LFS pointer.*git lfs pull/);
  });

  it("takes MLE-bench's direction from the leaderboard order, and warns when the metric's name disagrees", async () => {
    const dir = editedCopy(BENCH.competition, {
      'leaderboard.csv': (text) => {
        const [header, ...rows] = text.trim().split('\n');
        return [header, ...rows.filter((r) => !r.startsWith(',')).reverse()].join('\n') + '\n';
      },
    });
    const { packageDir, warnings } = await importMleBench(dir, opts('reversed'));
    expect(JSON.parse(readFileSync(join(packageDir, 'task.json'), 'utf8')).metric.higherIsBetter).toBe(false);
    expect(warnings).toContainEqual(
      expect.stringMatching(/accuracy is usually higher-is-better, but the source says lower-is-better/),
    );
  });

  it("embeds the competition's sibling modules (from .classes import ...) so metric.py grades on its own", async () => {
    const dir = editedCopy(BENCH.competition, {
      'grade.py': (text) =>
        text
          .replace(
            'from mlebench.competitions.utils',
            'from mlebench.grade_helpers import InvalidSubmissionError\nfrom mlebench.competitions.utils',
          )
          .replace('\n\n\ndef grade', '\nfrom .classes import SPECIES\n\n\ndef grade')
          .replace(
            '    return accuracy_score',
            '    if not set(submission["Species"]) <= set(SPECIES):\n        raise InvalidSubmissionError(f"Species must be one of {SPECIES}")\n    return accuracy_score',
          ),
    });
    writeFileSync(join(dir, 'classes.py'), 'SPECIES = ["Adelie", "Chinstrap", "Gentoo"]\n');
    const { packageDir } = await importMleBench(dir, opts('siblings'));
    expect(readFileSync(join(packageDir, 'metric.py'), 'utf8')).toMatch(/^from _anvil_local\.classes import SPECIES$/m);
    mkdirSync(join(packageDir, 'private'));
    writeFileSync(join(packageDir, 'private', 'answers.csv'), 'PenguinId,Species\n1,Adelie\n2,Gentoo\n');
    const submission = join(packageDir, 'submission.csv');
    const gradeIt = (text: string) => {
      writeFileSync(submission, text);
      return gradeInSandbox(sandbox, {
        packageDir,
        submissionFile: submission,
        scratchDir: join(root, 'grading'),
        runKey: runKey(),
      });
    };
    // One of two rows right: 0.5 on all rows; each row falls in one of the public and private shares.
    const half = await gradeIt('PenguinId,Species\n1,Adelie\n2,Adelie\n');
    expect(half).toMatchObject({ valid: true, score: 0.5 });
    expect([half.public, half.private].sort()).toEqual([0, 1]);
    expect(await gradeIt('PenguinId,Species\n1,Adelie\n2,Emperor\n')).toEqual({
      valid: false,
      error: "Species must be one of ['Adelie', 'Chinstrap', 'Gentoo']",
    });
  });
});

const SHIM_CHECKS = `
import io, sys, tarfile, zipfile
from pathlib import Path
import numpy as np, pandas as pd
sys.path.insert(0, "/data")
import mlebench_shim as shim

def invalid(fn, *args):
    try:
        fn(*args)
    except shim.InvalidSubmissionError as e:
        return str(e)
    raise AssertionError(f"{fn.__name__} accepted {args}")

work = Path("/workspace")
(work / "x.csv").write_text("id,p\\n1,0.1234567890123456789\\n")
assert shim.read_csv(work / "x.csv")["p"][0] == float("0.1234567890123456789")
(work / "empty.csv").write_text("")
assert shim.read_csv(work / "empty.csv").empty

answers = shim.df_to_one_hot(pd.DataFrame({"id": [1, 2], "y": ["a", "b"]}), "id", "y", ["a", "b"])
assert answers.to_dict("list") == {"id": [1, 2], "a": [1, 0], "b": [0, 1]}
scores = pd.DataFrame({"id": [2, 1], "a": [0.0, 2.0], "b": [2.0, 0.0]})
inputs = shim.one_hot_dfs_to_log_loss_inputs(scores, answers)
assert np.allclose(inputs["y_pred"].sum(axis=1), 1) and inputs["y_pred"][0, 0] > 0.5
assert "Missing columns" in invalid(shim.one_hot_dfs_to_log_loss_inputs, scores.drop(columns=["b"]), answers)
assert "Mismatch" in invalid(shim.one_hot_dfs_to_log_loss_inputs, scores.assign(id=[3, 1]), answers)

mask = np.zeros((4, 3), dtype=bool); mask[1:3, 0] = True; mask[0, 2] = True
assert shim.rle_encode(mask) == [2, 2, 9, 1]
assert (shim.rle_decode("2 2 9 1", 4, 3) == mask).all() and not shim.rle_decode("", 4, 3).any()

truth = pd.DataFrame({"id": [1, 2], "y": [0, 1]})
assert "between 0 and 1" in invalid(shim.prepare_for_auroc_metric, pd.DataFrame({"id": [1, 2], "y": [0.5, 1.5]}), truth, "id", "y")
assert "same length" in invalid(shim.prepare_for_accuracy_metric, truth.head(1), truth, "y", "id")

with zipfile.ZipFile(work / "a.zip", "w") as z:
    z.writestr("inner/a.txt", "zip")
with tarfile.open(work / "b.tar.gz", "w:gz") as t:
    data = b"tar"; info = tarfile.TarInfo("b.txt"); info.size = len(data); t.addfile(info, io.BytesIO(data))
shim.extract(work / "a.zip", work / "out")
shim.extract(work / "b.tar.gz", work / "out")
assert (work / "out/inner/a.txt").read_text() == "zip" and (work / "out/b.txt").read_text() == "tar"

shim.install({"mlebench.utils": ["read_csv"]}, {"tqdm": ["tqdm"], "tqdm.auto": ["tqdm"]})
from mlebench.utils import read_csv
from tqdm.auto import tqdm
assert read_csv is shim.read_csv
with tqdm(total=2) as bar:
    bar.update(1)
assert list(tqdm([1, 2], desc="x")) == [1, 2]
print("ok")
`;

// Hostile archives for the stand-in extract() under small limits (32 MiB, 100 entries): each is
// refused with the limit named, and nothing of it is left unpacked.
const BOMB_CHECKS = `
import io, sys, tarfile, zipfile
from pathlib import Path
sys.path.insert(0, "/data")
import mlebench_shim as shim

work = Path("/workspace")
def refused(archive, reason, recursive=False):
    out = work / ("out-" + archive.name)
    try:
        shim.extract(archive, out, recursive=recursive)
    except (shim.ArchiveTooLarge, ValueError) as e:
        assert reason in str(e), str(e)
        unpacked = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
        print(f"{archive.name}: {e} ({unpacked} bytes left unpacked)")
        return unpacked
    raise AssertionError(f"{archive} was unpacked")

# gzip members of 16 MiB of zeros end to end: 1 GiB unpacked from about 1 MiB, stopped at 32 MiB
assert refused(Path("/data/bomb.csv.gz"), "unpacks past the 32 MiB limit") == 0
with zipfile.ZipFile(work / "big.zip", "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("big.csv", bytes(64 << 20))
assert refused(work / "big.zip", "declares 64 MiB unpacked") == 0
with tarfile.open(work / "big.tar.gz", "w:gz") as t:
    info = tarfile.TarInfo("big.csv"); info.size = 64 << 20; t.addfile(info, io.BytesIO(bytes(info.size)))
assert refused(work / "big.tar.gz", "declares 64 MiB unpacked") == 0
with zipfile.ZipFile(work / "many.zip", "w") as z:
    for i in range(200):
        z.writestr(f"f{i}.csv", "")
assert refused(work / "many.zip", "holds 200 entries") == 0
# two nested archives of 20 MiB each share one budget: the second one is refused
with zipfile.ZipFile(work / "nested.zip", "w", zipfile.ZIP_DEFLATED) as z:
    for name in ("a", "b"):
        inner = io.BytesIO()
        with zipfile.ZipFile(inner, "w", zipfile.ZIP_DEFLATED) as i:
            i.writestr(f"{name}.csv", bytes(20 << 20))
        z.writestr(f"{name}.zip", inner.getvalue())
assert refused(work / "nested.zip", "over the", recursive=True) <= 32 << 20
with zipfile.ZipFile(work / "slip.zip", "w") as z:
    z.writestr("../../escaped.csv", "x")
refused(work / "slip.zip", "outside the folder")
assert not (work / "escaped.csv").exists() and not Path("/escaped.csv").exists()
with tarfile.open(work / "link.tar", "w") as t:
    info = tarfile.TarInfo("passwd"); info.type = tarfile.SYMTYPE; info.linkname = "/etc/passwd"; t.addfile(info)
refused(work / "link.tar", "is a link")
print("ok")
`;

describe('importer helpers', () => {
  it('runs the stand-in helpers in the sandbox as the originals behave', async () => {
    const dir = fresh('shim');
    mkdirSync(dir);
    cpSync(join(__dirname, '..', 'package', 'import', 'mlebench_shim.py'), join(dir, 'mlebench_shim.py'));
    const r = await run(SHIM_CHECKS, dir);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('ok');
  });

  it('refuses archive bombs, paths out of the folder and links, unpacking nothing past the limit', async () => {
    const dir = fresh('bombs');
    mkdirSync(dir);
    cpSync(join(__dirname, '..', 'package', 'import', 'mlebench_shim.py'), join(dir, 'mlebench_shim.py'));
    const member = gzipSync(Buffer.alloc(16 << 20));
    writeFileSync(join(dir, 'bomb.csv.gz'), Buffer.concat(Array<Buffer>(64).fill(member)));
    const env = { ANVIL_EXTRACT_MAX_MB: '32', ANVIL_EXTRACT_MAX_ENTRIES: '100' };
    const r = await sandbox.run({ code: BOMB_CHECKS, dataDir: dir, limits, env }, { runKey: runKey() });
    console.log(r.stdout);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n').at(-1)).toBe('ok');
  });

  it('finds the submission columns in the forms Kaggle descriptions use', () => {
    expect(submissionColumns(readFileSync(join(BENCH.competition, 'description.md'), 'utf8'))).toEqual([
      'PenguinId',
      'Species',
    ]);
    expect(submissionColumns(readFileSync(join(DOJO.competition, 'info', 'description.txt'), 'utf8'))).toEqual([
      'id',
      'Miles_per_Gallon',
    ]);
    const indented =
      '## Evaluation\n\nHow do I make a submission file? See below.\n\n**Submission File**\n\nPredict each id:\n\n    id,target_a,target_b\n    1,0.5,0.5\n';
    expect(submissionColumns(indented)).toEqual(['id', 'target_a', 'target_b']);
    expect(submissionColumns('## Submission Format\n\n```\nUpload a CSV file.\n```\n')).toBeUndefined();
  });

  it('slugifies competition ids into task ids', () => {
    expect(slugify('GiveMeSomeCredit')).toBe('give-me-some-credit');
    expect(slugify('spaceship_titanic')).toBe('spaceship-titanic');
    expect(slugify('--AI4Code--')).toBe('ai4code');
  });

  it('lists only helpers that mlebench_shim.py defines', () => {
    const shim = readFileSync(join(__dirname, '..', 'package', 'import', 'mlebench_shim.py'), 'utf8');
    const defined = new Set([...shim.matchAll(/^(?:def|class)\s+(\w+)|^(\w+)\s*=/gm)].map((m) => m[1] ?? m[2]));
    for (const [module, names] of Object.entries({ ...SHIM_MODULES, ...SHIM_FALLBACKS })) {
      for (const name of names) expect(defined.has(name), `${module}.${name}`).toBe(true);
    }
  });
});
