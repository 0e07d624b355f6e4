import { realpathSync } from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { ApplicationFailure } from '@temporalio/activity';

/**
 * Paths that arrive in workflow inputs (anyone who can reach Temporal can start a workflow) must
 * lie under the configured roots (artifacts, catalog, home) once symlinks are resolved; anything
 * else is a non-retryable `PathOutsideRoots`. A path that does not exist yet is resolved through
 * its nearest existing parent.
 */

function realpathOrParent(path: string): string {
  const full = resolve(path);
  try {
    return realpathSync(full);
  } catch {
    const parent = dirname(full);
    return parent === full ? full : join(realpathOrParent(parent), basename(full));
  }
}

function under(path: string, root: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !rel.startsWith(sep));
}

/** `path`, resolved, if it lies under one of `roots`; else a non-retryable failure naming `field`. */
export function confinedPath(path: string, roots: readonly string[], field: string): string {
  const real = realpathOrParent(path);
  const realRoots = roots.map(realpathOrParent);
  if (realRoots.some((root) => under(real, root))) return real;
  throw ApplicationFailure.nonRetryable(
    `${field} ${path} is outside the folders Anvil serves (${realRoots.join(', ')}): ` +
      'put the files under one of them (paths.home, paths.artifacts or paths.catalog)',
    'PathOutsideRoots',
  );
}
