import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** README, README.md, description.txt, DATASET.md, datacard.md…: a dataset's own documentation, not data. */
export const DOCUMENTATION_FILE =
  /^(readme|description|about|dataset|datacard|dataset[-_]card|notes)(\.(md|txt|rst))?$/i;
const MAX_CHARS = 8000;
/** words a sentence uses when it names what to predict */
const CUE = /\b(predict\w*|target|response|dependent variables?|outcome|label|class attribute|forecast\w*)\b/i;
const STOP = new Set(['the', 'and', 'for', 'with', 'from', 'that', 'this', 'per', 'each', 'are', 'was', 'its', 'of']);

/** The documentation file in a dataset folder (the first by name), cut to a few thousand characters. */
export async function readDocumentation(path: string): Promise<string | undefined> {
  if (!(await stat(path)).isDirectory()) return undefined;
  const names = (await readdir(path)).filter((n) => DOCUMENTATION_FILE.test(n)).sort();
  if (names.length === 0) return undefined;
  const text = await readFile(join(path, names[0]!), 'utf8');
  return text.slice(0, MAX_CHARS);
}

/**
 * Columns the documentation names as what to predict: a sentence with a cue word ("predict",
 * "target", "dependent variable"…) that names the column, or shares two content words with the
 * line that defines it (`**medv**: median value of homes` and "predict … median home value").
 */
export function documentedTargets(documentation: string | undefined, columns: string[]): Set<string> {
  const found = new Set<string>();
  if (!documentation) return found;
  const sentences = documentation.split(/\n|(?<=\.)\s+/).filter((s) => CUE.test(s));
  const lines = documentation.split('\n');
  for (const column of columns) {
    const name = column.toLowerCase();
    const named = new RegExp(`(^|[^a-z0-9_])${escape(name)}([^a-z0-9_]|$)`, 'i');
    const defines = new RegExp(`^[\\s*\\-\`|]*${escape(name)}[\\s*\`|]*[:\\-—|]`, 'i');
    const definition = lines.find((l) => defines.test(l));
    const defined = definition ? words(definition.replace(named, ' ')) : new Set<string>();
    for (const s of sentences) {
      const shared = [...words(s)].filter((w) => defined.has(w)).length;
      if ((name.length >= 2 && named.test(s)) || shared >= 2) found.add(column);
    }
  }
  return found;
}

function words(text: string): Set<string> {
  return new Set(
    text
      .toLowerCase()
      .split(/[^a-z]+/)
      .filter((w) => w.length >= 3 && !STOP.has(w))
      .map((w) => w.replace(/s$/, '')),
  );
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
