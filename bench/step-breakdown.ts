/**
 * Where a trivial Dojo step's time goes: N `print("ok")` steps through HTTP, each split by its
 * workflow history's event times (same host, same clock) into the gateway and client, the
 * Update's workflow task, the activity's dispatch to the host queue, the activity itself, the
 * workflow task that completes the Update, and the reply; beside them the sandbox layer alone
 * (the warm interpreter's step, as the activity runs it) and a trajectory append.
 *
 *   npx tsx bench/step-breakdown.ts [steps]
 */
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import type { temporal } from '@temporalio/proto';
import Docker from 'dockerode';
import { appendStepOnce } from '../package/trajectory-file';
import { WarmDockerSandbox } from '../sandbox/warm';
import { startDojoBench } from './dojo-bench';
import { quantile } from './stats';

type Event = temporal.api.history.v1.IHistoryEvent;
const EventType = {
  WFT_SCHEDULED: 5,
  WFT_STARTED: 6,
  WFT_COMPLETED: 7,
  ACTIVITY_SCHEDULED: 10,
  ACTIVITY_STARTED: 11,
  ACTIVITY_COMPLETED: 12,
};
const TRIVIAL = 'print("ok")';

const at = (e: Event) => Number(e.eventTime!.seconds) * 1000 + (e.eventTime!.nanos ?? 0) / 1e6;
const now = () => performance.timeOrigin + performance.now();

/** Per step: the times of its events, in history order, from the Update's workflow task on. */
function stepsOf(events: Event[]) {
  const steps: Record<string, number>[] = [];
  for (let i = 0; i < events.length; i++) {
    if (events[i]!.eventType !== EventType.ACTIVITY_SCHEDULED) continue;
    const before = events.slice(0, i).reverse();
    const after = events.slice(i + 1);
    const find = (list: Event[], type: number) => list.find((e) => e.eventType === type)!;
    steps.push({
      wftScheduled: at(find(before, EventType.WFT_SCHEDULED)),
      wftStarted: at(find(before, EventType.WFT_STARTED)),
      wftCompleted: at(find(before, EventType.WFT_COMPLETED)),
      activityScheduled: at(events[i]!),
      activityStarted: at(find(after, EventType.ACTIVITY_STARTED)),
      activityCompleted: at(find(after, EventType.ACTIVITY_COMPLETED)),
      wft2Scheduled: at(find(after, EventType.WFT_SCHEDULED)),
      wft2Started: at(find(after, EventType.WFT_STARTED)),
      wft2Completed: at(find(after, EventType.WFT_COMPLETED)),
    });
  }
  return steps;
}

const row = (name: string, v: number[]) =>
  `  ${name.padEnd(58)} median ${quantile(v, 0.5).toFixed(1).padStart(6)} ms   p95 ${quantile(v, 0.95)
    .toFixed(1)
    .padStart(6)} ms`;

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? 30);
  const bench = await startDojoBench();
  const { client, config } = bench.embedded;
  const warm = new WarmDockerSandbox(new Docker(), {
    image: config.sandbox.image,
    runsDir: join(config.paths.artifacts, 'bench-runs'),
  });
  const spec = {
    sessionKey: `bench-breakdown-${Date.now()}`,
    dataDir: join(bench.taskDir, 'public'),
    workspaceDir: join(config.paths.artifacts, 'bench-breakdown'),
    limits: { ...config.sandbox.limits, cpus: 1, memoryMb: 1024, outputBytes: 256 * 1024 },
  };
  try {
    const envId = await bench.open();
    for (let i = 0; i < 3; i++) await Promise.all([bench.step(envId, TRIVIAL), warm.exec(spec, TRIVIAL)]);
    const client0: { sent: number; got: number }[] = [];
    const sandboxMs: number[] = [];
    const appendMs: number[] = [];
    const trajectory = join(mkdtempSync(join(config.paths.artifacts, 'bench-traj-')), 't.jsonl');
    for (let i = 0; i < n; i++) {
      const sent = now();
      await bench.step(envId, TRIVIAL);
      client0.push({ sent, got: now() });
      const t = now();
      await warm.exec(spec, TRIVIAL);
      sandboxMs.push(now() - t);
      const a = now();
      await appendStepOnce(trajectory, { step: i + 1, envId, padding: 'x'.repeat(600) } as never);
      appendMs.push(now() - a);
    }
    const history = await client.workflow.getHandle(envId).fetchHistory();
    const steps = stepsOf(history.events ?? []).slice(-n);
    const seg = (f: (s: Record<string, number>, c: { sent: number; got: number }) => number) =>
      steps.map((s, i) => f(s, client0[i]!));
    console.log(`trivial Dojo step, ${n} steps, split by its history's event times`);
    console.log(
      row(
        'whole step, at the HTTP client',
        seg((_, c) => c.got - c.sent),
      ),
    );
    console.log(
      row(
        'HTTP + gateway + client → Update workflow task scheduled',
        seg((s, c) => s.wftScheduled! - c.sent),
      ),
    );
    console.log(
      row(
        '  workflow task dispatch (control worker)',
        seg((s) => s.wftStarted! - s.wftScheduled!),
      ),
    );
    console.log(
      row(
        '  workflow task (Update handler, schedules the activity)',
        seg((s) => s.wftCompleted! - s.wftStarted!),
      ),
    );
    console.log(
      row(
        '  activity dispatch (host queue)',
        seg((s) => s.activityStarted! - s.activityScheduled!),
      ),
    );
    console.log(
      row(
        '  activity runAndRecord',
        seg((s) => s.activityCompleted! - s.activityStarted!),
      ),
    );
    console.log(
      row(
        '  → next workflow task started',
        seg((s) => s.wft2Started! - s.activityCompleted!),
      ),
    );
    console.log(
      row(
        '  workflow task (completes the Update)',
        seg((s) => s.wft2Completed! - s.wft2Started!),
      ),
    );
    console.log(
      row(
        'Update completed → HTTP response read',
        seg((s, c) => c.got - s.wft2Completed!),
      ),
    );
    console.log(row('sandbox layer alone (WarmDockerSandbox.exec)', sandboxMs));
    console.log(row('trajectory append (appendStepOnce)', appendMs));
    await bench.close(envId);
  } finally {
    await warm.stop(spec.sessionKey);
    await bench.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
