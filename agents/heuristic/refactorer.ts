import { TASK_SCHEMA } from '../../domain/task';
import type { PackageFiles } from '../roles';

/** Names authors (and models) often use, mapped to the v1 layout. */
const ALIASES: Record<string, string> = {
  'baseline.py': 'solutions/baseline.py',
  'solution.py': 'solutions/baseline.py',
  'solutions/solution.py': 'solutions/baseline.py',
  'grade.py': 'metric.py',
  'README.md': 'description.md',
  'description.txt': 'description.md',
  'manifest.json': 'task.json',
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
  if (out['task.json']) {
    try {
      const manifest = JSON.parse(out['task.json']) as Record<string, unknown>;
      out['task.json'] = `${JSON.stringify({ schema: TASK_SCHEMA, ...manifest }, null, 2)}\n`;
    } catch {
      // left as it is: verification reports the broken manifest with its parse error
    }
  }
  return out;
}
