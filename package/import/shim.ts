import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { PythonSource } from './competition-python';

// mlebench_shim.py: Anvil's stand-ins for the mlebench/mledojo helpers, embedded into every
// converted prepare.py and metric.py.

const SHIM_FILE = join(__dirname, 'mlebench_shim.py');
const SHIM_UTILS = [
  'read_csv',
  'read_jsonl',
  'load_answers',
  'extract',
  'compress',
  'is_compressed',
  'is_empty',
  'get_logger',
  'get_timestamp',
];
const SHIM_GRADING = [
  'df_to_one_hot',
  'one_hot_dfs_to_log_loss_inputs',
  'is_one_hot_encoded',
  'rle_decode',
  'rle_encode',
  'rles_to_masks',
  'prepare_for_accuracy_metric',
  'prepare_for_auroc_metric',
];

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
/** Every module the stand-in answers for, with the names it provides. */
export const SHIMMED: Record<string, readonly string[]> = { ...SHIM_MODULES, ...SHIM_FALLBACKS };
/** Where to add a helper the stand-in lacks, for error messages. */
export const SHIM_SOURCES = 'package/import/mlebench_shim.py and SHIM_MODULES in package/import/shim.ts';
/** the package the competition's sibling modules (`from .classes import ...`) are served under */
export const LOCAL_PACKAGE = '_anvil_local';

/** A Python string literal of `text`: raw triple-quoted when that reads back exactly, else JSON's escapes. */
function pyString(text: string): string {
  return !text.includes("'''") && !/\\$/.test(text) ? `r'''${text}'''` : JSON.stringify(text);
}

/**
 * A self-contained Python module: the stand-in helpers, the competition's code (verbatim but for
 * rewritten relative imports, and `from __future__` lines moved to the top), then `adapter`, the
 * Anvil entry point that calls it.
 */
export async function embedPython({
  docstring,
  source,
  origin,
  adapter,
}: {
  docstring: string;
  source: PythonSource;
  origin: string;
  adapter: string;
}): Promise<string> {
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
    '# ---- 1. Stand-ins for the mlebench / mledojo helpers: package/import/mlebench_shim.py of Anvil ----',
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
