/** A package folder that cannot be used as asked: the message says what is missing or wrong, where, and what to do. */
export class BadPackageError extends Error {
  override name = 'BadPackageError';
}
