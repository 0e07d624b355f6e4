import { parseArgs } from 'node:util';
import { WorkflowFailedError } from '@temporalio/client';
import {
  ActivityFailure,
  ApplicationFailure,
  ChildWorkflowFailure,
  RetryState,
  TimeoutFailure,
  TimeoutType,
} from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { describeFailure, UserFacingError } from '../client/failures';
import { exitCodeOf, FAILURE_KINDS, renderUserError, TypedError, withoutHostPaths } from '../domain/failures';
import { failedChecks, rejectionHint } from '../domain/verification';

/** A failure as the client sees it: workflow → child workflow → activity → root cause. */
function chain(root: Error): WorkflowFailedError {
  const activity = new ActivityFailure(
    'activity failed',
    'intakeDataset',
    '1',
    RetryState.NON_RETRYABLE_FAILURE,
    'w',
    root,
  );
  const execution = { workflowId: 'forge-x--t', runId: 'r' };
  const child = new ChildWorkflowFailure('default', execution, 'forgeTask', RetryState.NON_RETRYABLE_FAILURE, activity);
  return new WorkflowFailedError('Workflow execution failed', child, RetryState.NON_RETRYABLE_FAILURE);
}

describe('describeFailure', () => {
  it('walks the cause chain to the root: its message, type, class, path and the kind hint', () => {
    const message = 'folder /data/x holds no data files; put CSV files in it';
    const error = describeFailure(chain(ApplicationFailure.nonRetryable(message, 'BadDataset')), {
      workflowId: 'forge-x',
      link: 'http://ui/forge-x',
    });
    expect(error).toEqual({
      class: 'input',
      type: 'BadDataset',
      message,
      where: ['forgeTask', 'intakeDataset'],
      hint: FAILURE_KINDS.BadDataset!.hint,
      workflowId: 'forge-x',
      link: 'http://ui/forge-x',
    });
    expect(exitCodeOf(error)).toBe(2);
  });

  it('takes a hint the failure carries over the generic one, and leaves unknown types as failed (exit 1)', () => {
    const hinted = ApplicationFailure.create({ message: 'm', type: 'BadDataset', details: [{ hint: 'do this' }] });
    expect(describeFailure(chain(hinted)).hint).toBe('do this');
    const unknown = describeFailure(chain(ApplicationFailure.nonRetryable('the model broke', 'SomethingNew')));
    expect(unknown).toMatchObject({ class: 'failed', type: 'SomethingNew', message: 'the model broke' });
    expect(unknown.hint).toBeUndefined();
    expect(exitCodeOf(unknown)).toBe(1);
  });

  it('classes timeouts and unreachable engines as infrastructure (exit 3)', () => {
    const timeout = new TimeoutFailure('activity timeout', undefined, TimeoutType.SCHEDULE_TO_START);
    expect(describeFailure(chain(timeout))).toMatchObject({ class: 'infrastructure', type: 'Timeout' });
    const refused = new Error('connect ECONNREFUSED 127.0.0.1:7233');
    expect(describeFailure(refused)).toMatchObject({ class: 'infrastructure', type: 'Unreachable' });
    const docker = describeFailure(chain(new Error('connect ENOENT /var/run/docker.sock')));
    expect(docker).toMatchObject({ class: 'infrastructure', type: 'DockerUnavailable' });
    expect(exitCodeOf(docker)).toBe(3);
  });

  it('reads typed errors, parseArgs errors and config errors raised outside Temporal', () => {
    expect(describeFailure(new TypedError('MissingSetting', 'needs KEY', 'set KEY'))).toMatchObject({
      class: 'input',
      type: 'MissingSetting',
      hint: 'set KEY',
    });
    let parseError: unknown;
    try {
      parseArgs({ args: ['--nope'], options: {}, strict: true });
    } catch (err) {
      parseError = err;
    }
    expect(describeFailure(parseError)).toMatchObject({ class: 'input', type: 'Usage' });
    const config = Object.assign(new Error('bad value'), { name: 'ConfigError' });
    expect(describeFailure(config)).toMatchObject({ class: 'input', type: 'ConfigError' });
  });

  it('keeps a described error as it is, adding only the context', () => {
    const known = new UserFacingError({ class: 'rejected', type: 'T', message: 'm', where: ['a'] });
    expect(describeFailure(known, { workflowId: 'w' })).toEqual({
      class: 'rejected',
      type: 'T',
      message: 'm',
      where: ['a'],
      workflowId: 'w',
    });
  });
});

describe('user-facing text', () => {
  it('renders the message first, then type, path, fix and workflow', () => {
    const text = renderUserError('anvil forge', {
      class: 'input',
      type: 'BadDataset',
      message: 'x.csv is empty',
      where: ['forgeDataset', 'intakeDataset'],
      hint: 'give rows',
      workflowId: 'forge-1',
      link: 'http://ui/w',
    });
    expect(text.split('\n')).toEqual([
      'anvil forge: x.csv is empty',
      '  type: BadDataset (input), from forgeDataset › intakeDataset',
      '  fix: give rows',
      '  workflow: forge-1 — http://ui/w',
    ]);
  });

  it('cuts host paths to their last segment but keeps routes and URLs', () => {
    expect(withoutHostPaths('/tmp/anvil-x/catalog/iris/public/train.csv is missing')).toBe('…/train.csv is missing');
    expect(withoutHostPaths('no task "t" in the catalog /srv/anvil/catalog; known: a')).toBe(
      'no task "t" in the catalog …/catalog; known: a',
    );
    expect(withoutHostPaths('create one with POST /v1/envs')).toBe('create one with POST /v1/envs');
    expect(withoutHostPaths('see http://localhost:8233/namespaces/default/workflows/w')).toBe(
      'see http://localhost:8233/namespaces/default/workflows/w',
    );
  });

  it('names the checks that failed (not those that did not run) and what to do', () => {
    const checks = [
      { name: 'files.present', passed: true, detail: 'ok' },
      { name: 'prepare.runs', passed: false, detail: 'prepare.py exited 1' },
      { name: 'ids.unique', passed: false, detail: 'not run: prepare.runs failed' },
      { name: 'review.metric_fits', passed: false, detail: 'unknown metric' },
    ];
    expect(failedChecks(checks).map((c) => c.name)).toEqual(['prepare.runs', 'review.metric_fits']);
    expect(rejectionHint(checks)).toBe(
      'fix prepare.runs (and review.metric_fits) as its detail says, then run `anvil verify` again',
    );
    expect(rejectionHint(checks.slice(0, 1))).toBeUndefined();
  });
});
