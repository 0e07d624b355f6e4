import { basename, dirname, join, resolve } from 'node:path';
import { ImportError } from './import-error';
import { LOCAL_PACKAGE, SHIM_SOURCES, SHIMMED } from './shim';
import { firstExisting, readSourceFile } from './source-files';

// Reading a competition's Python: its imports of mlebench/mledojo helpers checked against the
// stand-in, and its sibling modules gathered, so that it can be embedded into one file.

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

const SHIMMED_ROOTS = new Set(Object.keys(SHIMMED).map((m) => m.split('.')[0]!));

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

const names = (list: string) =>
  list
    .replace(/[()]/g, '')
    .split(',')
    .map((n) => n.trim().split(/\s+as\s+/)[0]!)
    .filter(Boolean);

function refuse(label: string, line: number, what: string, module: string): never {
  const provided = SHIMMED[module];
  const has = provided
    ? ` (it provides ${provided.join(', ')})`
    : ` (it stands in for ${Object.keys(SHIMMED).join(', ')})`;
  throw new ImportError(
    `${label}:${line} imports ${what}, which Anvil's stand-in for the MLE-bench/MLE-Dojo helpers ` +
      `does not provide${has}: add it to ${SHIM_SOURCES}, or change the competition's code`,
  );
}

const isPackageOfShimmed = (module: string) => Object.keys(SHIMMED).some((m) => m.startsWith(`${module}.`));

/** Checks one `a.b.c` use of an imported stand-in module against what the stand-in has. */
function checkAttributePath(label: string, line: number, module: string, path: string[]): void {
  let current = module;
  for (const part of path) {
    const sub = `${current}.${part}`;
    if (SHIMMED[sub] || isPackageOfShimmed(sub)) current = sub;
    else if (SHIMMED[current]?.includes(part)) return;
    else refuse(label, line, `${sub}`, current);
  }
}

/**
 * Reads a competition's Python file, refuses imports of mlebench/mledojo helpers that the stand-in
 * lacks (naming them), and gathers its sibling modules (`from .x import y`, x.py beside it).
 */
export async function readCompetitionPython(
  file: string,
  label: string,
  seen = new Set<string>(),
): Promise<PythonSource> {
  const code = await readSourceFile(file, label);
  const lines = code.split('\n');
  let locals: Record<string, string> = {};
  seen.add(resolve(file));
  for (const { line, text } of importStatements(code)) {
    const from = /^from\s+(\.*)([\w.]*)\s+import\s+(.+)$/.exec(text);
    if (from) {
      const [, dots, module, list] = from as unknown as [string, string, string, string];
      if (dots) {
        if (dots.length > 1) {
          throw new ImportError(
            `${label}:${line}: "${text}" imports from a parent package, which a converted package cannot have: ` +
              `inline that code into ${basename(file)}`,
          );
        }
        const siblings = module ? [module.split('.')[0]!] : names(list);
        for (const sibling of siblings) {
          const path = join(dirname(file), `${sibling}.py`);
          if (seen.has(resolve(path))) continue;
          if (!(await firstExisting([path]))) {
            throw new ImportError(
              `${label}:${line} imports .${sibling}, but ${path} does not exist: ` +
                'copy that file into the competition folder',
            );
          }
          const embedded = await readCompetitionPython(path, `${label} → ${sibling}.py`, seen);
          locals = { ...locals, ...embedded.locals, [`${LOCAL_PACKAGE}.${sibling}`]: embedded.code };
        }
        lines[line - 1] = lines[line - 1]!.replace(/^(\s*from\s+)\./, `$1${LOCAL_PACKAGE}${module ? '.' : ''}`);
        continue;
      }
      if (!SHIMMED_ROOTS.has(module.split('.')[0]!)) continue;
      const imported = names(list);
      if (SHIMMED[module]) {
        for (const name of imported) {
          if (name !== '*' && !SHIMMED[module]!.includes(name)) refuse(label, line, `${name} from ${module}`, module);
        }
      } else {
        for (const name of imported) {
          if (!SHIMMED[`${module}.${name}`]) refuse(label, line, `${module}.${name}`, module);
        }
      }
      continue;
    }
    for (const clause of text.replace(/^import\s+/, '').split(',')) {
      const [module, alias] = clause.trim().split(/\s+as\s+/) as [string, string | undefined];
      if (!SHIMMED_ROOTS.has(module.split('.')[0]!)) continue;
      if (!SHIMMED[module] && !isPackageOfShimmed(module)) refuse(label, line, module, module);
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
