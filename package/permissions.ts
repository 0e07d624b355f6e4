import { chmod, readdir } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Makes a published package's private/ (the answers) readable by its owner only: the folder 0700,
 * files 0600. Grading copies the answers into a folder that only the grading container sees.
 */
export async function hidePrivate(dir: string): Promise<void> {
  await chmod(dir, 0o700);
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await hidePrivate(path);
    else if (entry.isFile()) await chmod(path, 0o600);
  }
}

/**
 * Makes a package folder readable by the sandbox's user, and writable by nobody else: folders
 * 0755, files 0644. Symbolic links are left as they are (chmod would follow them).
 */
export async function makeReadable(dir: string): Promise<void> {
  await chmod(dir, 0o755);
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await makeReadable(path);
    else if (entry.isFile()) await chmod(path, 0o644);
  }
}
