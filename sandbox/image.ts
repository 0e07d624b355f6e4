import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_SANDBOX_PROFILE, SANDBOX_PROFILES, type SandboxProfile } from '../domain/task';

/** The files whose content defines the sandbox image; any change gives a new tag. */
const RECIPE_FILES = ['packages.txt', 'build-offline.sh', 'Dockerfile'];
const RECIPE_DIR = join(__dirname, 'image');

/** A profile's extra Debian packages beside the base recipe (none for the default profile). */
export const profilePackagesFile = (profile: SandboxProfile, recipeDir = RECIPE_DIR) =>
  profile === DEFAULT_SANDBOX_PROFILE ? undefined : join(recipeDir, 'profiles', `${profile}.txt`);

/**
 * `anvil/sandbox-python:<first 12 hex of the recipe's sha256>` for the default profile (python-ml);
 * `anvil/sandbox-<profile>:<hash of the recipe and the profile's package list>` for the others.
 */
export function sandboxImageTag(recipeDir = RECIPE_DIR, profile: SandboxProfile = DEFAULT_SANDBOX_PROFILE): string {
  const hash = createHash('sha256');
  for (const file of RECIPE_FILES) {
    hash
      .update(file)
      .update('\0')
      .update(readFileSync(join(recipeDir, file)))
      .update('\0');
  }
  const extra = profilePackagesFile(profile, recipeDir);
  if (!extra) return `anvil/sandbox-python:${hash.digest('hex').slice(0, 12)}`;
  hash.update(readFileSync(extra));
  return `anvil/sandbox-${profile}:${hash.digest('hex').slice(0, 12)}`;
}

// `tsx sandbox/image.ts [profile]` prints the tag (and the profile's package list), so the shell
// set-up builds exactly what the code runs.
if (require.main === module) {
  const profile = (process.argv[2] ?? DEFAULT_SANDBOX_PROFILE) as SandboxProfile;
  if (!SANDBOX_PROFILES.includes(profile)) {
    console.error(`unknown sandbox profile "${profile}"; one of ${SANDBOX_PROFILES.join(', ')}`);
    process.exit(2);
  }
  console.log([sandboxImageTag(RECIPE_DIR, profile), profilePackagesFile(profile) ?? ''].join(' ').trim());
}
