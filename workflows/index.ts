// Every workflow type the control worker registers.
export { sandboxRun } from './sandbox-run';
export { sandboxSmoke } from './sandbox-smoke';
