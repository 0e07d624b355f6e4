import { chmod, cp, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { parse } from 'csv-parse/sync';
import { z } from 'zod';
import { METRICS } from '../../domain/metrics';
import { TASK_SCHEMA, taskManifestSchema, type Modality, type TaskManifest, type TaskType } from '../../domain/task';

// Shared by the MLE-bench and MLE-Dojo importers: reading the sources, checking and embedding their
// Python, inferring the manifest, and writing the Anvil package.

export type SourceKind = 'mle-bench' | 'mle-dojo';

export interface ImportOptions {
  /** the package is written to outDir/<taskId> (outDir is created) */
  outDir: string;
  /** the competition's raw files (what Kaggle ships, unpacked); default <competitionDir>/raw */
  rawDir?: string;
  /** default: the competition id, slugified */
  taskId?: string;
  /** default: the second column of the description's submission format */
  target?: string;
  /** default: the first column of the description's submission format */
  idColumn?: string;
  /** default: from the metric (and the target's values in the raw data), else 'other' */
  taskType?: TaskType;
}

export interface ImportResult {
  packageDir: string;
  taskId: string;
  /** what the importer guessed or left for a person to finish */
  warnings: string[];
}

/** The competition folder cannot be converted; the message says what is wrong, where, and what to do. */
export class ImportError extends Error {
  override name = 'ImportError';
}

const TASK_ID = /^[a-z0-9][a-z0-9-]{1,79}$/;
const RESOURCES = { cpus: 1, memoryMb: 2048, gpu: false, timeLimitS: 600 };
const PLACEHOLDER_BASELINE = 'solutions/baseline.py is a placeholder that predicts one constant per column: replace it with a real solution before publishing (it will not beat the trivial submission)';

// ------------------------------------------------------------------ reading the source folder

/** A file of the competition folder, or an ImportError naming it and what to do. */
export async function readSourceFile(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    throw new ImportError(`${what} not found: no ${path}. Pass the competition's own folder (the one holding ${basename(path)})`);
  }
}

/** The first of `candidates` (paths) that exists, or undefined. */
export async function firstExisting(candidates: string[]): Promise<string | undefined> {
  for (const path of candidates) {
    if (await stat(path).then((s) => s.isFile(), () => false)) return path;
  }
  return undefined;
}

type YamlValue = string | null | YamlMap;
export interface YamlMap {
  [key: string]: YamlValue;
}

/**
 * The subset of YAML that MLE-bench's config.yaml uses: nested mappings of `key: value`, plain or
 * quoted scalars, `null`, and block scalars (`|`, `>`). Sequences are skipped (no field we read is one).
 */
export function parseSimpleYaml(text: string, where: string): YamlMap {
  const root: YamlMap = {};
  const stack: Array<{ indent: number; map: YamlMap }> = [{ indent: -1, map: root }];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/\s+#.*$/, '');
    const trimmed = line.trim();
    if (!trimmed || trimmed.startsWith('#') || trimmed.startsWith('-')) continue;
    const match = /^(\s*)([^\s:][^:]*?)\s*:(?:\s+(.*))?$/.exec(line);
    if (!match) throw new ImportError(`${where}:${i + 1}: cannot read "${trimmed}" as "key: value"; fix the line`);
    const indent = match[1]!.length;
    while (stack.at(-1)!.indent >= indent) stack.pop();
    const parent = stack.at(-1)!.map;
    const key = match[2]!;
    const value = (match[3] ?? '').trim();
    if (value === '') {
      const child: YamlMap = {};
      parent[key] = child;
      stack.push({ indent, map: child });
    } else if (/^[|>][+-]?$/.test(value)) {
      const block: string[] = [];
      while (i + 1 < lines.length && (!lines[i + 1]!.trim() || /^\s*/.exec(lines[i + 1]!)![0].length > indent)) block.push(lines[++i]!.trim());
      parent[key] = block.join(value.startsWith('|') ? '\n' : ' ').trim();
    } else {
      parent[key] = value === 'null' || value === '~' ? null : value.replace(/^(["'])(.*)\1$/, '$2');
    }
  }
  return root;
}

/** Rows of a CSV file as records; refuses Git LFS pointers (a checkout without `git lfs pull`). */
export function parseCsvRecords(text: string, where: string): Record<string, string>[] {
  if (text.startsWith('version https://git-lfs')) {
    throw new ImportError(`${where} is a Git LFS pointer, not the file: run \`git lfs pull\` in the benchmark's checkout and import again`);
  }
  try {
    return parse(text, { columns: true, skip_empty_lines: true, trim: true, bom: true }) as Record<string, string>[];
  } catch (err) {
    throw new ImportError(`${where} is not a readable CSV file (${(err as Error).message}); fix or remove it`);
  }
}

// ------------------------------------------------------------------ inferring the manifest

/** `GiveMeSomeCredit` → `give-me-some-credit`, `spaceship_titanic` → `spaceship-titanic`. */
export function slugify(id: string): string {
  return id
    .replace(/([a-z])([A-Z])/g, '$1-$2')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+/, '')
    .slice(0, 80)
    .replace(/-+$/, '');
}

export function titleFromId(id: string): string {
  return slugify(id)
    .split('-')
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join(' ');
}

const CSV_HEADER = /^[^,\s`][^,]*(,[^,]*[^,\s])+$/;

/**
 * The columns of the submission file as a Kaggle-style description shows them: the first CSV header
 * in a code block (fenced or indented) after a "Submission File" / "Submission Format" line.
 */
export function submissionColumns(description: string): string[] | undefined {
  const lines = description.split(/\r?\n/);
  const mentions = lines.flatMap((line, i) => (/submission\s+(file|format)/i.test(line) ? [i] : []));
  // headings first: the words also turn up in FAQs and prose
  const ordered = [...mentions.filter((i) => /^\s*(#|\*\*)/.test(lines[i]!)), ...mentions.filter((i) => !/^\s*(#|\*\*)/.test(lines[i]!))];
  for (const start of ordered) {
    let fenced = false;
    for (const line of lines.slice(start + 1, start + 60)) {
      const text = line.trim();
      if (text.startsWith('```')) {
        if (fenced) break;
        fenced = true;
      } else if (fenced || (/^( {4}|\t)/.test(line) && CSV_HEADER.test(text))) {
        if (!text) continue;
        if (!CSV_HEADER.test(text)) break; // a code block, but not a CSV file: try the next mention
        return text.split(',').map((c) => c.trim().replace(/^"(.*)"$/, '$1'));
      } else if (/^#{1,6}\s/.test(text)) {
        break;
      }
    }
  }
  return undefined;
}

interface MetricFacts {
  /** a metric of domain/metrics.ts, whose direction and bounds Anvil knows */
  known?: keyof typeof METRICS;
  taskType?: TaskType;
}

const METRIC_NAMES: Array<[RegExp, MetricFacts]> = [
  [/^(accuracy|categorization-accuracy|classification-accuracy)$/, { known: 'accuracy', taskType: 'multiclass-classification' }],
  [/^(roc-?auc|auc-?roc|auroc|auc|roc-auc-score|area-under-(the-)?roc-curve)$/, { known: 'roc-auc', taskType: 'binary-classification' }],
  [/^(log-?loss|multi-?class-log-?loss|cross-entropy)$/, { known: 'log-loss', taskType: 'multiclass-classification' }],
  [/^(macro-f1|f1-macro)$/, { known: 'macro-f1', taskType: 'multiclass-classification' }],
  [/^(rmse|root-mean-squared-error)$/, { known: 'rmse', taskType: 'regression' }],
  [/^(mae|mean-absolute-error)$/, { known: 'mae', taskType: 'regression' }],
  [/^(rmsle|root-mean-squared-log(arithmic)?-error)$/, { known: 'rmsle', taskType: 'regression' }],
  [/(^|-)(map|ndcg|mrr)(@|-at-|-?\d|$)/, { taskType: 'ranking' }],
  [/(rmse|rmsle|mse|mae|mape|smape|r2|squared|absolute|error|spearman|pearson)/, { taskType: 'regression' }],
  [/(accuracy|auc|f1|kappa|qwk|mcc|log-?loss|precision|recall)/, { taskType: 'multiclass-classification' }],
];

/** What a metric's name says about its direction, bounds and task type. */
export function metricFacts(name: string): MetricFacts {
  const normalized = name.toLowerCase().replace(/[\s_]+/g, '-');
  return METRIC_NAMES.find(([pattern]) => pattern.test(normalized))?.[1] ?? {};
}

/** MLE-bench's rule (Grader.is_lower_better): lower is better when the top entry scores below the bottom one. */
export function higherIsBetterFromLeaderboard(scores: number[]): boolean | undefined {
  if (scores.length < 2 || scores[0] === scores.at(-1)) return undefined;
  return !(scores[0]! < scores.at(-1)!);
}

const IMAGE = new Set(['.jpg', '.jpeg', '.png', '.tif', '.tiff', '.bmp', '.gif', '.webp', '.dcm']);
const AUDIO = new Set(['.wav', '.mp3', '.flac', '.aif', '.aiff', '.ogg']);
const TABLE = new Set(['.csv', '.tsv', '.parquet', '.json', '.jsonl']);
const MAX_WALKED = 20_000;

/** Files under dir (depth-first, at most MAX_WALKED), as paths. */
async function walk(dir: string, out: string[] = []): Promise<string[]> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (out.length >= MAX_WALKED) break;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await walk(path, out);
    else out.push(path);
  }
  return out;
}

/** 'image' or 'audio' when the raw data is mostly such files, else 'tabular'. */
function inferModality(files: string[]): Modality {
  const count = (kinds: Set<string>) => files.filter((f) => kinds.has(extname(f).toLowerCase())).length;
  const [images, audio, tables] = [count(IMAGE), count(AUDIO), count(TABLE)];
  if (images > tables && images >= audio) return 'image';
  if (audio > tables) return 'audio';
  return 'tabular';
}

const MAX_PROFILED_BYTES = 50 * 1024 * 1024;

/** How many distinct values `target` takes in the first raw CSV file that has it (small files only). */
async function distinctTargetValues(files: string[], target: string): Promise<number | undefined> {
  for (const file of files.filter((f) => extname(f).toLowerCase() === '.csv')) {
    if ((await stat(file)).size > MAX_PROFILED_BYTES) continue;
    const text = await readFile(file, 'utf8');
    const header = text.split('\n', 1)[0]!.split(',').map((c) => c.trim().replace(/^"(.*)"$/, '$1'));
    if (!header.includes(target)) continue;
    try {
      const rows = parse(text, { columns: true, skip_empty_lines: true, relax_column_count: true }) as Record<string, string>[];
      return new Set(rows.map((r) => r[target]).filter((v) => v !== undefined && v !== '')).size;
    } catch {
      continue; // not a clean CSV: look elsewhere
    }
  }
  return undefined;
}

// ------------------------------------------------------------------ the competition's Python

const SHIM_FILE = join(__dirname, 'mlebench_shim.py');
const SHIM_UTILS = ['read_csv', 'read_jsonl', 'load_answers', 'extract', 'compress', 'is_compressed', 'is_empty', 'get_logger', 'get_timestamp'];
const SHIM_GRADING = ['df_to_one_hot', 'one_hot_dfs_to_log_loss_inputs', 'is_one_hot_encoded', 'rle_decode', 'rle_encode', 'rles_to_masks', 'prepare_for_accuracy_metric', 'prepare_for_auroc_metric'];

/**
 * What mlebench_shim.py stands in for, module by module: the helpers MLE-bench and MLE-Dojo
 * competitions import. Competition code that imports anything else from these packages is refused.
 */
export const SHIM_MODULES: Record<string, readonly string[]> = {
  'mlebench.grade_helpers': ['InvalidSubmissionError'],
  'mlebench.utils': SHIM_UTILS,
  'mlebench.competitions.utils': [...SHIM_GRADING, 'get_logger', 'InvalidSubmissionError'],
  'mledojo.metrics.base': ['CompetitionMetrics', 'InvalidSubmissionError'],
  'mledojo.gym.metric': ['CompetitionMetrics'],
  'mledojo.competitions.utils': [...SHIM_UTILS, 'df_to_one_hot', 'rle_encode'],
};
/** Stand-ins used only where the sandbox lacks the real module (it has no tqdm). */
export const SHIM_FALLBACKS: Record<string, readonly string[]> = { tqdm: ['tqdm'], 'tqdm.auto': ['tqdm'] };
const CHECKED = { ...SHIM_MODULES, ...SHIM_FALLBACKS };
const CHECKED_ROOTS = new Set(Object.keys(CHECKED).map((m) => m.split('.')[0]!));
/** the package the competition's sibling modules (`from .classes import ...`) are served under */
const LOCAL_PACKAGE = '_anvil_local';

export interface PythonSource {
  /** the file's code, relative imports rewritten to LOCAL_PACKAGE */
  code: string;
  /** the sibling modules it needs, by module name under LOCAL_PACKAGE, as rewritten code */
  locals: Record<string, string>;
}

interface ImportStatement {
  line: number;
  text: string;
}

/** The import statements of a Python file, continuation lines joined; skips triple-quoted strings. */
function importStatements(code: string): ImportStatement[] {
  const lines = code.split('\n');
  const out: ImportStatement[] = [];
  let openQuote: string | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (openQuote) {
      if ((line.split(openQuote).length - 1) % 2 === 1) openQuote = undefined;
      continue;
    }
    let text = line.replace(/#.*$/, '').trim();
    if (/^(from|import)\s/.test(text)) {
      const first = i;
      while ((text.includes('(') && !text.includes(')')) || text.endsWith('\\')) {
        if (++i >= lines.length) break;
        text = `${text.replace(/\\$/, '')} ${lines[i]!.replace(/#.*$/, '').trim()}`;
      }
      out.push({ line: first + 1, text });
      continue;
    }
    openQuote = ['"""', "'''"].find((q) => (line.split(q).length - 1) % 2 === 1);
  }
  return out;
}

const names = (list: string) => list.replace(/[()]/g, '').split(',').map((n) => n.trim().split(/\s+as\s+/)[0]!).filter(Boolean);

function refuse(label: string, line: number, what: string, module: string): never {
  const provided = CHECKED[module];
  const has = provided ? ` (it provides ${provided.join(', ')})` : ` (it stands in for ${Object.keys(CHECKED).join(', ')})`;
  throw new ImportError(
    `${label}:${line} imports ${what}, which Anvil's stand-in for the MLE-bench/MLE-Dojo helpers does not provide${has}: add it to cli/import/mlebench_shim.py and SHIM_MODULES in cli/import/common.ts, or change the competition's code`,
  );
}

const isPackageOfChecked = (module: string) => Object.keys(CHECKED).some((m) => m.startsWith(`${module}.`));

/** Checks one `a.b.c` use of an imported stand-in module against what the stand-in has. */
function checkAttributePath(label: string, line: number, module: string, path: string[]): void {
  let current = module;
  for (const part of path) {
    const sub = `${current}.${part}`;
    if (CHECKED[sub] || isPackageOfChecked(sub)) current = sub;
    else if (CHECKED[current]?.includes(part)) return;
    else refuse(label, line, `${sub}`, current);
  }
}

/**
 * Reads a competition's Python file, refuses imports of mlebench/mledojo helpers that the stand-in
 * lacks (naming them), and gathers its sibling modules (`from .x import y`, x.py beside it).
 */
export async function readCompetitionPython(file: string, label: string, seen = new Set<string>()): Promise<PythonSource> {
  const code = await readSourceFile(file, label);
  const lines = code.split('\n');
  let locals: Record<string, string> = {};
  seen.add(resolve(file));
  for (const { line, text } of importStatements(code)) {
    const from = /^from\s+(\.*)([\w.]*)\s+import\s+(.+)$/.exec(text);
    if (from) {
      const [, dots, module, list] = from as unknown as [string, string, string, string];
      if (dots) {
        if (dots.length > 1) throw new ImportError(`${label}:${line}: "${text}" imports from a parent package, which a converted package cannot have: inline that code into ${basename(file)}`);
        const siblings = module ? [module.split('.')[0]!] : names(list);
        for (const sibling of siblings) {
          const path = join(dirname(file), `${sibling}.py`);
          if (seen.has(resolve(path))) continue;
          if (!(await firstExisting([path]))) throw new ImportError(`${label}:${line} imports .${sibling}, but ${path} does not exist: copy that file into the competition folder`);
          const embedded = await readCompetitionPython(path, `${label} → ${sibling}.py`, seen);
          locals = { ...locals, ...embedded.locals, [`${LOCAL_PACKAGE}.${sibling}`]: embedded.code };
        }
        lines[line - 1] = lines[line - 1]!.replace(/^(\s*from\s+)\./, `$1${LOCAL_PACKAGE}${module ? '.' : ''}`);
        continue;
      }
      if (!CHECKED_ROOTS.has(module.split('.')[0]!)) continue;
      const imported = names(list);
      if (CHECKED[module]) {
        for (const name of imported) if (name !== '*' && !CHECKED[module]!.includes(name)) refuse(label, line, `${name} from ${module}`, module);
      } else {
        for (const name of imported) if (!CHECKED[`${module}.${name}`]) refuse(label, line, `${module}.${name}`, module);
      }
      continue;
    }
    for (const clause of text.replace(/^import\s+/, '').split(',')) {
      const [module, alias] = clause.trim().split(/\s+as\s+/) as [string, string | undefined];
      if (!CHECKED_ROOTS.has(module.split('.')[0]!)) continue;
      if (!CHECKED[module] && !isPackageOfChecked(module)) refuse(label, line, module, module);
      const base = alias ?? module;
      const uses = new RegExp(`(?<![\\w.])${base.replace(/\./g, '\\.')}((?:\\.\\w+)+)`, 'g');
      for (const use of code.matchAll(uses)) checkAttributePath(label, line, module, use[1]!.slice(1).split('.'));
    }
  }
  return { code: lines.join('\n'), locals };
}

/** The names a Python file defines at its top level with `def` or `class`. */
export function topLevelDefinitions(code: string): Set<string> {
  return new Set([...code.matchAll(/^(?:async\s+)?(?:def|class)\s+(\w+)/gm)].map((m) => m[1]!));
}

/** A Python string literal of `text`: raw triple-quoted when that reads back exactly, else JSON's escapes. */
function pyString(text: string): string {
  return !text.includes("'''") && !/\\$/.test(text) ? `r'''${text}'''` : JSON.stringify(text);
}

/**
 * A self-contained Python module: the stand-in helpers, the competition's code (verbatim but for
 * rewritten relative imports, and `from __future__` lines moved to the top), then `adapter`, the
 * Anvil entry point that calls it.
 */
export async function embedPython({ docstring, source, origin, adapter }: { docstring: string; source: PythonSource; origin: string; adapter: string }): Promise<string> {
  const shim = await readFile(SHIM_FILE, 'utf8');
  const future: string[] = [];
  const code = source.code.replace(/^from __future__ import [^\n]+$/gm, (line) => {
    future.push(line);
    return `# ${line}  (moved to the top of this file)`;
  });
  return [
    `"""${docstring.replace(/"""/g, "'''")}\n"""`,
    ...future,
    'import types as _anvil_types',
    '',
    '# ---- 1. Stand-ins for the mlebench / mledojo helpers: cli/import/mlebench_shim.py of Anvil ----',
    `_ANVIL_SHIM_SOURCE = ${pyString(shim)}`,
    '_anvil_shim = _anvil_types.ModuleType("anvil_mlebench_shim")',
    'exec(compile(_ANVIL_SHIM_SOURCE, "mlebench_shim.py", "exec"), _anvil_shim.__dict__)',
    `_anvil_shim.install(${JSON.stringify(SHIM_MODULES)}, ${JSON.stringify(SHIM_FALLBACKS)}, "${LOCAL_PACKAGE}", {`,
    ...Object.entries(source.locals).map(([name, text]) => `    ${JSON.stringify(name)}: ${pyString(text)},`),
    '})',
    '',
    `# ---- 2. ${origin}, as the competition has it ----`,
    code.trimEnd(),
    '',
    '',
    '# ---- 3. Anvil entry point ----',
    adapter.trim(),
    '',
  ].join('\n');
}

// ------------------------------------------------------------------ writing the package

export interface LeaderboardEntry {
  entry: string;
  /** as the source wrote it */
  score: string;
  board: 'public' | 'private';
}

/** Anvil's leaderboard.csv: every source row is a human entry. */
function leaderboardCsv(rows: LeaderboardEntry[]): string {
  const cell = (value: string) => (/[",\n\r]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value);
  return `entry,score,kind,board\n${rows.map((r) => `${cell(r.entry)},${r.score},human,${r.board}`).join('\n')}${rows.length ? '\n' : ''}`;
}

/** solutions/baseline.py: one constant per predicted column, so the package is complete. */
function placeholderBaseline(idColumn: string, taskType: TaskType): string {
  return `"""Placeholder baseline written by \`anvil import\`: one constant per predicted column (the training
mean for a regression, else the most frequent training value). Replace it with a real solution."""
import pandas as pd

ID, TASK_TYPE = ${JSON.stringify(idColumn)}, ${JSON.stringify(taskType)}

train = pd.read_csv("/data/train.csv")
test = pd.read_csv("/data/test.csv")
sample = pd.read_csv("/data/sample_submission.csv")


def constant(column):
    values = train[column].dropna() if column in train.columns else pd.Series(dtype=object)
    if values.empty:
        return sample[column].iloc[0]
    if TASK_TYPE in ("regression", "forecasting") and pd.api.types.is_numeric_dtype(values):
        return values.mean()
    return values.mode().iloc[0]


# one row per test id when test.csv has the id column, else the sample submission's rows
submission = pd.DataFrame({ID: test[ID]}) if ID in test.columns and ID in sample.columns else sample[[sample.columns[0]]].copy()
for column in sample.columns:
    if column not in submission.columns:
        submission[column] = constant(column)
submission[list(sample.columns)].to_csv("/workspace/submission.csv", index=False)
`;
}

/** What an importer read from the competition folder, ready to be written as a package. */
export interface ConvertedCompetition {
  kind: SourceKind;
  competitionId: string;
  title: string;
  description: string;
  metric: { name: string; higherIsBetter: boolean };
  prepareCode: string;
  metricCode: string;
  leaderboard: LeaderboardEntry[];
  warnings: string[];
}

async function resolveRawDir(competitionDir: string, converted: ConvertedCompetition, rawDir?: string): Promise<string> {
  const dir = rawDir ? resolve(rawDir) : join(competitionDir, 'raw');
  const entries = await readdir(dir).catch(() => undefined);
  if (!entries) {
    if (rawDir) throw new ImportError(`raw data folder ${dir} does not exist or is not a folder: pass the folder holding the competition's raw files (what Kaggle ships, unpacked)`);
    throw new ImportError(
      `${converted.kind === 'mle-bench' ? 'MLE-bench' : 'MLE-Dojo'} competition folders do not ship data, and ${competitionDir} has no raw/ folder: ` +
        `download the competition's files (kaggle competitions download -c ${converted.competitionId}), unpack them into a folder and pass it as the raw data folder (rawDir)`,
    );
  }
  if (entries.length === 0) throw new ImportError(`raw data folder ${dir} is empty: put the competition's raw files (what Kaggle ships, unpacked) in it`);
  return dir;
}

/** chmod -R a+rX: the sandbox user must read the package. */
async function makeReadable(path: string): Promise<void> {
  const info = await stat(path);
  await chmod(path, info.mode | (info.isDirectory() ? 0o555 : 0o444));
  if (info.isDirectory()) for (const entry of await readdir(path)) await makeReadable(join(path, entry));
}

/**
 * Writes outDir/<taskId>: task.json (inferred where opts leave it open, validated), the description,
 * the converted prepare.py and metric.py, a placeholder baseline, leaderboard.csv and a copy of the
 * raw data. Everything is checked before the first file is written.
 */
export async function writeImportedPackage(competitionDir: string, converted: ConvertedCompetition, opts: ImportOptions): Promise<ImportResult> {
  const warnings = [...converted.warnings];
  const taskId = opts.taskId ?? slugify(converted.competitionId);
  if (!TASK_ID.test(taskId)) throw new ImportError(`task id "${taskId}" is not 2-80 lowercase letters, digits and dashes: pass a taskId that is`);
  const rawDir = await resolveRawDir(competitionDir, converted, opts.rawDir);
  const packageDir = resolve(opts.outDir, taskId);
  const existing: string[] = await readdir(packageDir).catch(() => []);
  if (existing.length > 0) {
    throw new ImportError(`${packageDir} already exists and is not empty: remove it, or pass another outDir or taskId`);
  }

  const header = submissionColumns(converted.description);
  const idColumn = opts.idColumn ?? header?.[0];
  const target = opts.target ?? header?.[1];
  if (!idColumn || !target) {
    throw new ImportError(`the description of ${converted.competitionId} shows no submission format (a "Submission File" or "Submission Format" section with a CSV header in a code block): pass target and idColumn`);
  }
  if (header && header.length > 2 && !opts.target) warnings.push(`the submission has ${header.length - 1} prediction columns (${header.slice(1, 6).join(', ')}${header.length > 6 ? ', …' : ''}); task.json names the first, ${target}, as the target: pass target to choose another`);

  const facts = metricFacts(converted.metric.name);
  const known = facts.known && METRICS[facts.known];
  if (known && known.higherIsBetter !== converted.metric.higherIsBetter) {
    warnings.push(`metric ${converted.metric.name} is usually ${known.higherIsBetter ? 'higher' : 'lower'}-is-better, but the source says ${converted.metric.higherIsBetter ? 'higher' : 'lower'}-is-better; task.json follows the source`);
  }
  const rawFiles = await walk(rawDir);
  let taskType = opts.taskType ?? facts.taskType ?? 'other';
  if (!opts.taskType && (taskType === 'binary-classification' || taskType === 'multiclass-classification')) {
    const classes = await distinctTargetValues(rawFiles, target);
    if (classes !== undefined && classes >= 2) taskType = classes === 2 ? 'binary-classification' : 'multiclass-classification';
  }
  if (!opts.taskType && !facts.taskType) warnings.push(`metric ${converted.metric.name} does not say what kind of task this is: taskType is 'other'; pass taskType to set it`);

  const manifest = {
    schema: TASK_SCHEMA,
    id: taskId,
    title: converted.title,
    taskType,
    modality: inferModality(rawFiles),
    target,
    idColumn,
    metric: { name: converted.metric.name, higherIsBetter: converted.metric.higherIsBetter, ...(known ? { bounds: known.bounds } : {}) },
    resources: RESOURCES,
    source: { kind: converted.kind, competition: converted.competitionId },
  } satisfies TaskManifest;
  const checked = taskManifestSchema.safeParse(manifest);
  if (!checked.success) throw new ImportError(`the task.json made for ${converted.competitionId} is not valid (${z.prettifyError(checked.error)}): pass options that fix it`);
  if (converted.leaderboard.length === 0) warnings.push('the source has no scored leaderboard rows: leaderboard.csv has no human entries, so rewards fall back to the reference entries');
  warnings.push(PLACEHOLDER_BASELINE);

  await mkdir(packageDir, { recursive: true });
  try {
    const files: Record<string, string> = {
      'task.json': `${JSON.stringify(checked.data, null, 2)}\n`,
      'description.md': converted.description,
      'prepare.py': converted.prepareCode,
      'metric.py': converted.metricCode,
      'solutions/baseline.py': placeholderBaseline(idColumn, taskType),
      'leaderboard.csv': leaderboardCsv(converted.leaderboard),
    };
    for (const [name, text] of Object.entries(files)) {
      await mkdir(dirname(join(packageDir, name)), { recursive: true });
      await writeFile(join(packageDir, name), text);
    }
    await cp(rawDir, join(packageDir, 'raw'), { recursive: true, dereference: true });
    await makeReadable(packageDir);
  } catch (err) {
    await rm(packageDir, { recursive: true, force: true });
    throw err;
  }
  return { packageDir, taskId, warnings };
}
