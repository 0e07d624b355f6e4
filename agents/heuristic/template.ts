import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const TEMPLATES = join(__dirname, 'templates');

/** A template with its first line (`CONFIG = {}`) replaced by the real config. */
export function fromTemplate(name: string, config: object): string {
  const body = readFileSync(join(TEMPLATES, name), 'utf8').split('\n').slice(1).join('\n');
  // A JSON string literal is also a valid Python string literal; json.loads reads it back.
  return `import json; CONFIG = json.loads(${JSON.stringify(JSON.stringify(config))})  # written by the Designer\n${body}`;
}
