import { type PackageFiles, TASK_SCHEMA } from '../../domain/task';
import { LAYOUT } from '../../package/layout';

/** Names authors (and models) often use, mapped to the v1 layout. */
const ALIASES: Record<string, string> = {
  'baseline.py': LAYOUT.baseline,
  'solution.py': LAYOUT.baseline,
  'solutions/solution.py': LAYOUT.baseline,
  'grade.py': LAYOUT.metric,
  'README.md': LAYOUT.description,
  'description.txt': LAYOUT.description,
  'manifest.json': LAYOUT.manifest,
};

/** Normalises a package to the v1 layout: file names, line endings, a complete, tidy task.json. */
export function refactor(files: PackageFiles): PackageFiles {
  const out: PackageFiles = {};
  for (const [path, content] of Object.entries(files)) {
    const target = ALIASES[path.replace(/^\.\//, '')] ?? path.replace(/^\.\//, '');
    if (target in out) continue; // the canonical name wins over an alias
    let text = content.replace(/\r\n?/g, '\n');
    if (!text.endsWith('\n')) text += '\n';
    out[target] = text;
  }
  const manifestText = out[LAYOUT.manifest];
  if (manifestText) {
    try {
      const manifest = JSON.parse(manifestText) as Record<string, unknown>;
      out[LAYOUT.manifest] = `${JSON.stringify({ schema: TASK_SCHEMA, ...manifest }, null, 2)}\n`;
    } catch {
      // left as it is: verification reports the broken manifest with its parse error
    }
  }
  return out;
}
