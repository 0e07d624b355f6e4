import { parse } from 'yaml';
import { ImportError } from './import-error';

/*
 * MLE-bench's config.yaml: id, name, grader {name, grade_fn "module:function"}, preparer
 * "module:function", dataset {answers, sample_submission} as paths <id>/prepared/{private,public}/<file>.
 */

export type MleBenchConfig = Record<string, unknown>;

/** config.yaml's mapping, or an ImportError naming the file, the line and what to fix. */
export function parseMleBenchConfig(text: string, where: string): MleBenchConfig {
  let config: unknown;
  try {
    config = parse(text);
  } catch (err) {
    // yaml's message names the line and column
    const why = (err as Error).message.split('\n')[0]!.replace(/:$/, '');
    throw new ImportError(`${where} is not valid YAML (${why}): fix config.yaml`);
  }
  if (!config || typeof config !== 'object' || Array.isArray(config)) {
    throw new ImportError(
      `${where} is not a YAML mapping of keys to values, as MLE-bench's config.yaml files are: fix it`,
    );
  }
  return config as MleBenchConfig;
}

/** The text at `path` (a dotted key) of config.yaml, or undefined; numbers are read as text. */
export function configField(config: MleBenchConfig, path: string): string | undefined {
  let value: unknown = config;
  for (const key of path.split('.')) {
    value = value && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
  }
  return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : undefined;
}

/** The function named by `module:function` at `key`, which must live in this competition's `file`.py. */
export function configFunction(config: MleBenchConfig, key: string, id: string, file: string, where: string): string {
  const spec = configField(config, key);
  if (!spec) return file; // MLE-bench's own convention: grade.py:grade, prepare.py:prepare
  const [module, fn] = spec.split(':') as [string, string | undefined];
  if (!fn || module !== `mlebench.competitions.${id}.${file}`) {
    throw new ImportError(
      `${where}: ${key} is "${spec}", not a function of this competition's ${file}.py: ` +
        `import the competition that defines it, or copy that code into ${file}.py`,
    );
  }
  return fn;
}

/** A dataset path of config.yaml (`<id>/prepared/<side>/<file>`) relative to the prepared `side` folder. */
export function configPreparedFile(
  config: MleBenchConfig,
  key: string,
  id: string,
  side: 'public' | 'private',
  where: string,
): string | undefined {
  const path = configField(config, key);
  if (path === undefined) return undefined;
  const prefix = `${id}/prepared/${side}/`;
  if (!path.startsWith(prefix)) {
    throw new ImportError(`${where}: ${key} is "${path}", not a file under ${prefix}: fix config.yaml`);
  }
  return path.slice(prefix.length);
}
