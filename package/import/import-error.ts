/** The competition folder cannot be converted; the message says what is wrong, where, and what to do. */
export class ImportError extends Error {
  override name = 'ImportError';
}
