import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The files whose content defines the sandbox image; any change gives a new tag. */
const RECIPE_FILES = ['packages.txt', 'build-offline.sh', 'Dockerfile'];
const RECIPE_DIR = join(__dirname, 'image');

/** `anvil/sandbox-python:<first 12 hex of the recipe's sha256>` */
export function sandboxImageTag(recipeDir = RECIPE_DIR): string {
  const hash = createHash('sha256');
  for (const file of RECIPE_FILES) {
    hash
      .update(file)
      .update('\0')
      .update(readFileSync(join(recipeDir, file)))
      .update('\0');
  }
  return `anvil/sandbox-python:${hash.digest('hex').slice(0, 12)}`;
}

// `tsx sandbox/image.ts` prints the tag, so the shell set-up builds exactly what the code runs.
if (require.main === module) console.log(sandboxImageTag());
