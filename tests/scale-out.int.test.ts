import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ForgeProgress } from '../domain/forge';
import { hostQueue, type QueueKind, taskQueueName } from '../domain/queues';
import type { RolloutResult } from '../domain/rollouts';
import { exampleDatasetPath } from '../examples/forge-datasets';
import type { forgeDataset, rolloutBatch, sandboxRun } from '../workflows';
import { waitFor } from './helpers/containers';
import { publishFixture } from './helpers/dojo';
import { createTestEnv, type TestEnv } from './helpers/env';
import { startWorkerProcess, type WorkerProcess } from './helpers/worker-process';

/**
 * Scale-out as an operator runs it: one Temporal server, and every worker a separate
 * `anvil worker --queue …` process — control, llm, two CPU "hosts" (own ANVIL_HOST_ID each) and a
 * GPU worker in CPU emulation. Which worker ran what is read back from the workflow histories
 * (the identity of each ActivityTaskStarted and WorkflowTaskCompleted event), never assumed.
 */

const NAMES = ['control', 'llm', 'cpu-1', 'cpu-2', 'gpu'] as const;
type WorkerName = (typeof NAMES)[number];

interface RunningWorker {
  name: WorkerName;
  process: WorkerProcess;
  /** `<pid>@<hostname>`, as the worker printed it */
  identity: string;
  /** every task queue the process said it polls */
  queues: string[];
}

/** One activity as the history records its last attempt. */
interface ActivityRun {
  workflowId: string;
  workflowType: string;
  activityId: string;
  activityType: string;
  taskQueue: string;
  identity: string;
  attempt: number;
  outcome: 'completed' | 'failed' | 'timed-out' | 'canceled';
  endedAtMs: number;
}

interface Execution {
  workflowId: string;
  runId: string;
  workflowType: string;
  activities: ActivityRun[];
  /** identity of the worker that completed each of its workflow tasks */
  workflowTaskIdentities: string[];
}

type Timestamp = { seconds?: { toString(): string } | number | null; nanos?: number | null } | null | undefined;
const msOf = (ts: Timestamp) => Number(String(ts?.seconds ?? 0)) * 1000 + (ts?.nanos ?? 0) / 1e6;

/** Reads one run's history: its activities (with who ran them), its workflow tasks, its children, its next run. */
async function readRun(client: Client, workflowId: string, runId: string) {
  const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
  const events = history.events ?? [];
  const workflowType = events[0]?.workflowExecutionStartedEventAttributes?.workflowType?.name ?? '?';
  const scheduled = new Map<string, { activityId: string; activityType: string; taskQueue: string }>();
  const started = new Map<string, { identity: string; attempt: number }>();
  const activities: ActivityRun[] = [];
  const workflowTaskIdentities: string[] = [];
  const children: string[] = [];
  let next: string | undefined;
  for (const e of events) {
    const id = String(e.eventId);
    const s = e.activityTaskScheduledEventAttributes;
    if (s)
      scheduled.set(id, {
        activityId: s.activityId ?? '',
        activityType: s.activityType?.name ?? '',
        taskQueue: s.taskQueue?.name ?? '',
      });
    const st = e.activityTaskStartedEventAttributes;
    if (st) started.set(id, { identity: st.identity ?? '', attempt: st.attempt ?? 1 });
    const ends = [
      ['completed', e.activityTaskCompletedEventAttributes],
      ['failed', e.activityTaskFailedEventAttributes],
      ['timed-out', e.activityTaskTimedOutEventAttributes],
      ['canceled', e.activityTaskCanceledEventAttributes],
    ] as const;
    for (const [outcome, end] of ends) {
      if (!end) continue;
      const run = started.get(String(end.startedEventId));
      const what = scheduled.get(String(end.scheduledEventId));
      if (run && what)
        activities.push({ workflowId, workflowType, ...what, ...run, outcome, endedAtMs: msOf(e.eventTime) });
    }
    // The completing worker ran the task (a started event the server writes for an update's task may carry no identity).
    const wc = e.workflowTaskCompletedEventAttributes;
    if (wc) workflowTaskIdentities.push(wc.identity ?? '');
    const child = e.childWorkflowExecutionStartedEventAttributes?.workflowExecution?.workflowId;
    if (child) children.push(child);
    next = e.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? next;
  }
  return { execution: { workflowId, runId, workflowType, activities, workflowTaskIdentities }, children, next };
}

/** Every run of a workflow (from its first, across continue-as-new) and of all its children, into `seen`. */
async function walk(client: Client, workflowId: string, seen: Map<string, Execution>): Promise<void> {
  const described = await client.workflow.getHandle(workflowId).describe();
  let runId: string | undefined = described.raw.workflowExecutionInfo?.firstRunId || described.runId;
  while (runId && !seen.has(`${workflowId}/${runId}`)) {
    const { execution, children, next } = await readRun(client, workflowId, runId);
    seen.set(`${workflowId}/${runId}`, execution);
    for (const child of children) await walk(client, child, seen);
    runId = next;
  }
}

/** episodes per rollout task: enough that the sessions' placement lands on both CPU hosts */
const SAMPLES = 4;
const STARTED = temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED;

describe('scale-out: one server, every worker kind its own process', () => {
  let t: TestEnv;
  let prefix: string;
  const workers = new Map<WorkerName, RunningWorker>();
  const worker = (name: WorkerName) => workers.get(name)!;

  beforeAll(async () => {
    // One sandbox run at a time per CPU worker: the two "hosts" share this machine's two cores.
    t = await createTestEnv({ ANVIL_CPU_CONCURRENCY: '1' });
    prefix = t.config.taskQueuePrefix;
    const specs: [WorkerName, QueueKind, Record<string, string>][] = [
      ['control', 'control', {}],
      ['llm', 'llm', {}],
      ['cpu-1', 'cpu', { ANVIL_HOST_ID: 'cpu-1' }],
      ['cpu-2', 'cpu', { ANVIL_HOST_ID: 'cpu-2' }],
      ['gpu', 'gpu', { ANVIL_GPU_EMULATE: '1' }],
    ];
    const started = await Promise.allSettled(
      specs.map(([, kind, extra]) => startWorkerProcess(kind, { ...t.env, ...extra })),
    );
    specs.forEach(([name], i) => {
      const result = started[i]!;
      if (result.status === 'rejected') return;
      const lines = [...result.value.output().matchAll(/^worker (\S+) polling (\S+) on /gm)];
      workers.set(name, {
        name,
        process: result.value,
        identity: lines[0]?.[1] ?? '',
        queues: lines.map((m) => m[2]!),
      });
    });
    const failed = started.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
  }, 180_000);

  afterAll(async () => {
    for (const w of workers.values()) {
      if (w.process.child.exitCode === null && w.process.child.signalCode === null) w.process.child.kill('SIGTERM');
    }
    await Promise.all(
      [...workers.values()].map((w) =>
        Promise.race([w.process.exited, new Promise((r) => setTimeout(r, 15_000))]).then(() => {
          if (w.process.child.exitCode === null && w.process.child.signalCode === null) w.process.child.kill('SIGKILL');
        }),
      ),
    );
    // Containers the killed worker could not remove (only its own: other files' orphans are theirs to test).
    if (t) {
      const owners = new Set([...workers.values()].map((w) => `${hostname()}:${w.process.child.pid}`));
      const left = await t.docker.listContainers({ all: true, filters: { label: ['anvil'] } });
      // The owner label is host:pid:token.
      for (const c of left.filter((c) => owners.has((c.Labels['anvil.owner'] ?? '').split(':').slice(0, 2).join(':'))))
        await t.docker
          .getContainer(c.Id)
          .remove({ force: true })
          .catch(() => {});
    }
    await t?.close();
  });

  it('spreads a forge, a rollout batch and a GPU run over five worker processes, and survives losing a CPU worker mid-forge', async () => {
    const began = Date.now();
    // Each process is its own worker, polling exactly its kind's queues.
    expect(new Set(NAMES.map((n) => worker(n).identity)).size).toBe(NAMES.length);
    for (const n of NAMES) expect(worker(n).identity).toBe(`${worker(n).process.child.pid}@${hostname()}`);
    expect(worker('control').queues).toEqual([taskQueueName(prefix, 'control')]);
    expect(worker('llm').queues).toEqual([taskQueueName(prefix, 'llm')]);
    expect(worker('cpu-1').queues.sort()).toEqual(
      [taskQueueName(prefix, 'cpu'), hostQueue(prefix, 'cpu', 'cpu-1')].sort(),
    );
    expect(worker('cpu-2').queues.sort()).toEqual(
      [taskQueueName(prefix, 'cpu'), hostQueue(prefix, 'cpu', 'cpu-2')].sort(),
    );
    expect(worker('gpu').queues).toContain(taskQueueName(prefix, 'gpu'));
    expect(worker('gpu').queues.every((q) => q.startsWith(taskQueueName(prefix, 'gpu')))).toBe(true);

    // 1. Two fixture tasks verified and published (verification on the CPU queue), for the rollout batch.
    await Promise.all(['iris-species', 'penguins-sex'].map((name) => publishFixture(t, name)));
    const roots = await waitFor('both verifyPackage runs listed', async () => {
      const ids: string[] = [];
      for await (const wf of t.client.workflow.list({
        query: `WorkflowType = 'verifyPackage' AND TaskQueue = '${t.controlQueue}'`,
      }))
        ids.push(wf.workflowId);
      return ids.length === 2 ? ids : undefined;
    });

    // 2. A rollout batch with both CPU workers alive, and beside it a run that asks for a GPU.
    const gpuId = `scale-gpu-${Date.now()}`;
    const gpuRun = t.client.workflow.execute<typeof sandboxRun>('sandboxRun', {
      taskQueue: t.controlQueue,
      workflowId: gpuId,
      args: [{ code: 'print("ran on the gpu queue")', gpu: true }],
    });
    const rolloutId = `scale-rollout-${Date.now()}`;
    const rollout: RolloutResult = await t.client.workflow.execute<typeof rolloutBatch>('rolloutBatch', {
      taskQueue: t.controlQueue,
      workflowId: rolloutId,
      args: [
        {
          tasks: ['iris-species', 'penguins-sex'],
          policy: 'heuristic',
          samplesPerTask: SAMPLES,
          maxSteps: 4,
          concurrency: 4,
          rewardMode: 'position',
          catalogDir: t.config.paths.catalog,
        },
      ],
    });
    expect((await gpuRun).stdout.trim()).toBe('ran on the gpu queue');
    expect(rollout.episodes).toHaveLength(2 * SAMPLES);
    expect(rollout.episodes.map((e) => e.status)).toEqual(Array(2 * SAMPLES).fill('completed'));
    for (const e of rollout.episodes) {
      expect(e.reward, `${e.task} #${e.sample}`).toBeGreaterThan(0);
      expect(existsSync(e.trajectory!)).toBe(true);
    }
    const rolloutDoneAt = Date.now();

    // 3. A forge; once both CPU workers have taken forge work, kill one that is running some.
    const forgeId = `scale-forge-${Date.now()}`;
    const forge = await t.client.workflow.start<typeof forgeDataset>('forgeDataset', {
      taskQueue: t.controlQueue,
      workflowId: forgeId,
      args: [
        {
          // two forecasts of its daily series (penguins has one task worth publishing, species)
          dataset: await exampleDatasetPath('seattle-weather', join(t.config.paths.home, 'examples')),
          name: 'seattle-weather',
          catalogDir: t.config.paths.catalog,
          maxTasks: 2,
          repairRounds: 1,
          concurrency: 2,
        },
      ],
    });
    const cpuNames = ['cpu-1', 'cpu-2'] as const;
    const cpuByIdentity = new Map(cpuNames.map((n) => [worker(n).identity, n]));
    // The forge children's CPU activities: those started and not ended (by worker), and those ended.
    const cpuActivities = async () => {
      const progress = await forge.query<ForgeProgress>('forgeProgress');
      const finished = new Map<string, number>();
      const running: { victim: WorkerName; workflowId: string; activityId: string; activityType: string }[] = [];
      for (const task of progress.tasks.filter((x) => x.status !== 'pending')) {
        const described = await t.client.workflow
          .getHandle(task.workflowId)
          .describe()
          .catch(() => undefined);
        if (!described) continue;
        for (const pa of described.raw.pendingActivities ?? []) {
          const name = cpuByIdentity.get(pa.lastWorkerIdentity ?? '');
          if (name && pa.state === STARTED)
            running.push({
              victim: name,
              workflowId: task.workflowId,
              activityId: pa.activityId ?? '',
              activityType: pa.activityType?.name ?? '',
            });
        }
        const { execution } = await readRun(t.client, task.workflowId, described.runId);
        for (const a of execution.activities) {
          const name = cpuByIdentity.get(a.identity);
          if (name) finished.set(name, (finished.get(name) ?? 0) + 1);
        }
      }
      return { running, finished };
    };
    // Kill a CPU worker that already finished forge work and is running more, once the other took some too.
    const chosen = await waitFor(
      'both CPU workers taking forge work, one of them having finished some and running more',
      async () => {
        const { status } = await forge.describe();
        if (status.name !== 'RUNNING') throw new Error(`the forge ended (${status.name}) before the kill`);
        const { running, finished } = await cpuActivities();
        const took = (n: string) => (finished.get(n) ?? 0) + running.filter((r) => r.victim === n).length;
        return running.find(
          (r) => (finished.get(r.victim) ?? 0) > 0 && took(r.victim === 'cpu-1' ? 'cpu-2' : 'cpu-1') > 0,
        );
      },
      300_000,
    );
    const victim = worker(chosen.victim);
    const survivor = worker(chosen.victim === 'cpu-1' ? 'cpu-2' : 'cpu-1');
    victim.process.child.kill('SIGKILL');
    expect(await victim.process.exited).toBe('SIGKILL');
    // What the victim was running when it died: read again after the kill, since the activity chosen
    // above may have ended in the moment between that read and the kill.
    const inFlight = await waitFor(
      'an activity the killed worker was running',
      async () => {
        const { running } = await cpuActivities();
        const lost = running.filter((r) => r.victim === victim.name);
        return lost.find((r) => r.activityId === chosen.activityId && r.workflowId === chosen.workflowId) ?? lost[0];
      },
      10_000,
    );
    const killedAt = Date.now();

    const forged = await forge.result();
    expect(forged.tasks).toHaveLength(2);
    const verified = forged.tasks.filter((x) => x.status === 'verified');
    expect(verified.length, JSON.stringify(forged.tasks, null, 1)).toBeGreaterThanOrEqual(1);
    for (const task of verified) expect(existsSync(join(task.path, 'task.json'))).toBe(true);

    // 4. Who ran what: every run of every workflow this test started, children and Dojo sessions included.
    const seen = new Map<string, Execution>();
    for (const id of [...roots, gpuId, rolloutId, forgeId, ...rollout.episodes.map((e) => e.envId!)])
      await walk(t.client, id, seen);
    const executions = [...seen.values()];
    // Nothing on this file's queues escaped the walk (visibility may lag, never invent).
    const walkedIds = new Set(executions.map((x) => x.workflowId));
    for await (const wf of t.client.workflow.list({ query: `TaskQueue = '${t.controlQueue}'` }))
      expect(walkedIds, wf.workflowId).toContain(wf.workflowId);
    expect(executions.filter((x) => x.workflowType === 'forgeTask')).toHaveLength(2);
    expect(executions.filter((x) => x.workflowType === 'episode')).toHaveLength(2 * SAMPLES);
    expect(executions.filter((x) => x.workflowType === 'envSession').length).toBeGreaterThanOrEqual(2 * SAMPLES);

    const nameOf = new Map(NAMES.map((n) => [worker(n).identity, n]));
    const runs = executions.flatMap((x) => x.activities);
    const ranBy = (name: WorkerName, filter: (a: ActivityRun) => boolean = () => true) =>
      runs.filter((a) => nameOf.get(a.identity) === name && filter(a));

    // The table a reader of the log sees.
    const typesOf = (list: ActivityRun[]) =>
      Object.entries(
        list.reduce<Record<string, number>>(
          (acc, a) => ({ ...acc, [a.activityType]: (acc[a.activityType] ?? 0) + 1 }),
          {},
        ),
      )
        .map(([type, n]) => `${type}×${n}`)
        .join(', ');
    const workflowTasks = (name: WorkerName) =>
      executions.flatMap((x) => x.workflowTaskIdentities).filter((id) => nameOf.get(id) === name).length;
    const phase = (a: ActivityRun) =>
      a.workflowId.startsWith(forgeId)
        ? 'forge'
        : a.workflowId === gpuId
          ? 'gpu'
          : roots.includes(a.workflowId)
            ? 'fixtures'
            : 'rollout';
    const rows = NAMES.map((n) => {
      const mine = ranBy(n);
      const by = (p: string) => mine.filter((a) => phase(a) === p).length;
      return [
        `${n}${n === victim.name ? ' (killed)' : ''}`,
        String(worker(n).process.child.pid),
        String(workflowTasks(n)),
        String(mine.length),
        String(by('fixtures')),
        String(by('rollout')),
        String(by('gpu')),
        String(by('forge')),
        typesOf(mine),
      ];
    });
    const header = [
      'worker',
      'pid',
      'wf tasks',
      'activities',
      'fixtures',
      'rollout',
      'gpu run',
      'forge',
      'activity types',
    ];
    const widths = header.map((h, i) =>
      Math.max(h.length, ...rows.map((r) => (i < header.length - 1 ? r[i]!.length : 0))),
    );
    const fmt = (r: string[]) => r.map((c, i) => (i < r.length - 1 ? c.padEnd(widths[i]!) : c)).join('  ');
    console.log(
      `scale-out: activities per worker process (${executions.length} workflow runs, ${runs.length} activities, ${Math.round((Date.now() - began) / 1000)} s)\n${[header, ...rows].map(fmt).join('\n')}`,
    );

    // Every activity ran on one of the five processes, on a queue that process polls.
    for (const a of runs) {
      const name = nameOf.get(a.identity);
      expect(name, `${a.activityType} in ${a.workflowId} ran on ${a.identity}`).toBeDefined();
      expect(worker(name!).queues, `${a.activityType} on ${a.taskQueue} ran on ${name}`).toContain(a.taskQueue);
    }
    // Workflows run only on the control worker.
    for (const x of executions)
      for (const id of x.workflowTaskIdentities)
        expect(nameOf.get(id), `a workflow task of ${x.workflowId} completed by ${JSON.stringify(id)}`).toBe('control');

    // Each process did work of its kind.
    for (const n of NAMES) expect(ranBy(n).length, `${n} ran no activity`).toBeGreaterThan(0);
    expect(workflowTasks('control')).toBeGreaterThan(0);
    for (const type of ['intakeDataset', 'publishTask', 'openEnv', 'stepEnv'])
      expect(
        ranBy('control').map((a) => a.activityType),
        type,
      ).toContain(type);
    for (const type of ['brainstorm', 'design', 'review', 'policyTurn'])
      expect(
        ranBy('llm').map((a) => a.activityType),
        type,
      ).toContain(type);
    expect(ranBy('gpu', (a) => a.workflowId === gpuId).map((a) => [a.activityType, a.taskQueue])).toEqual([
      ['runInSandbox', taskQueueName(prefix, 'gpu')],
    ]);
    expect(
      runs
        .filter((a) => a.taskQueue.startsWith(taskQueueName(prefix, 'gpu')))
        .every((a) => nameOf.get(a.identity) === 'gpu'),
    ).toBe(true);

    // The rollout's Dojo sessions were placed on both CPU hosts, and their code steps ran there (one
    // runAndRecord activity each, since the 'one-activity-per-step' patch).
    const SESSION_STEPS = ['runAndRecord'];
    for (const n of cpuNames) {
      expect(
        ranBy(n, (a) => phase(a) === 'rollout' && SESSION_STEPS.includes(a.activityType)).length,
        `${n} ran no session step`,
      ).toBeGreaterThan(0);
    }
    for (const a of runs.filter((x) => SESSION_STEPS.includes(x.activityType))) {
      expect(a.endedAtMs).toBeLessThan(rolloutDoneAt);
    }

    // The forge's sandbox work was spread over both CPU workers …
    for (const n of cpuNames)
      expect(ranBy(n, (a) => phase(a) === 'forge').length, `${n} ran no forge activity`).toBeGreaterThan(0);
    // … the activity the killed worker was running was retried and finished by the survivor …
    const retried = runs.find((a) => a.workflowId === inFlight.workflowId && a.activityId === inFlight.activityId);
    expect(retried, `${inFlight.activityType} in ${inFlight.workflowId}`).toMatchObject({
      activityType: inFlight.activityType,
      identity: survivor.identity,
      outcome: 'completed',
    });
    expect(retried!.attempt).toBeGreaterThanOrEqual(2);
    // … the killed worker finished nothing after its death, and the survivor ran all the CPU work left.
    for (const a of ranBy(victim.name))
      expect(a.endedAtMs, `${a.activityType} in ${a.workflowId}`).toBeLessThan(killedAt);
    const afterKill = runs.filter(
      (a) => a.endedAtMs > killedAt && a.taskQueue.startsWith(taskQueueName(prefix, 'cpu')),
    );
    expect(afterKill.length).toBeGreaterThan(0);
    for (const a of afterKill) expect(a.identity, `${a.activityType} in ${a.workflowId}`).toBe(survivor.identity);
  }, 600_000);
});
