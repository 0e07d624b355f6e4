/**
 * Dojo step latency and rollout throughput, each Dojo figure beside a plain `docker exec` of the
 * same code in a warm container of the same image and limits, measured alternately in one run:
 *   1. a trivial step (`print("ok")`) through the whole Dojo (HTTP → gateway → Temporal Update →
 *      one activity on the session's host queue → the session's warm interpreter → observation)
 *      vs `docker exec python3 -c` of it;
 *   2. an ML step (import pandas and scikit-learn, fit a small model on train.csv) the same way;
 *   both for one session and for 8 concurrent sessions (8 containers stepping at once);
 *   3. rollout throughput: episodes per minute of a 32-episode heuristic batch at concurrency 8.
 * The steps write no submission, so nothing is graded.
 *
 *   npx tsx bench/env-step.ts [iterations] [concurrent rounds]
 */
import { join } from 'node:path';
import Docker from 'dockerode';
import type { RolloutResult } from '../domain/rollouts';
import { WarmDockerSandbox } from '../sandbox/warm';
import { startDojoBench } from './dojo-bench';
import { quantile } from './stats';

const TRIVIAL = 'print("ok")';
const ML = `import pandas, sklearn
from sklearn.linear_model import LogisticRegression
df = pandas.read_csv("/data/train.csv")
y = df.iloc[:, -1].astype(str)
X = df.iloc[:, :-1].select_dtypes("number").fillna(0)
LogisticRegression(max_iter=500).fit(X, y)
print("ok")`;
const SESSIONS = 8;

const timed = async (fn: () => Promise<void>) => {
  const start = performance.now();
  await fn();
  return performance.now() - start;
};

const ms = (v: number[], q: number) => `${quantile(v, q).toFixed(1).padStart(7)} ms`;
const row = (name: string, v: number[]) => `  ${name.padEnd(40)} median ${ms(v, 0.5)}   p95 ${ms(v, 0.95)}`;
const times = (a: number[], b: number[], q: number) => `${(quantile(a, q) / quantile(b, q)).toFixed(2)}×`;
const ratio = (a: number[], b: number[]) =>
  `  ratio (Dojo / plain): median ${times(a, b, 0.5)}, p95 ${times(a, b, 0.95)}`;

async function main(): Promise<void> {
  const iterations = Number(process.argv[2] ?? 30);
  const rounds = Number(process.argv[3] ?? 8);
  const bench = await startDojoBench();
  const { anvil, client, config } = bench.embedded;
  const docker = new Docker();
  const warm = new WarmDockerSandbox(docker, {
    image: config.sandbox.image,
    runsDir: join(config.paths.artifacts, 'bench-runs'),
  });
  const plainKeys: string[] = [];
  try {
    const taskDir = bench.taskDir;
    const dojoStep = (envId: string, code: string) => () => bench.step(envId, code);
    const envIds = await Promise.all(Array.from({ length: SESSIONS }, () => bench.open()));

    // The plain baseline: warm containers of the same image, limits and /data, one docker exec per step.
    const containers = await Promise.all(
      envIds.map((_, i) => {
        const sessionKey = `bench-plain-${Date.now()}-${i}`;
        plainKeys.push(sessionKey);
        return warm.ensure({
          sessionKey,
          dataDir: join(taskDir, 'public'),
          workspaceDir: join(config.paths.artifacts, `bench-plain-${i}`),
          limits: { ...config.sandbox.limits, cpus: 1, memoryMb: 1024 },
        });
      }),
    );
    const plainExec = (container: Docker.Container, code: string) => async () => {
      const exec = await container.exec({
        Cmd: ['python3', '-c', code],
        User: '10001:10001',
        WorkingDir: '/workspace',
        Env: ['HOME=/workspace', 'OMP_NUM_THREADS=1', 'MPLCONFIGDIR=/tmp'],
        AttachStdout: true,
        AttachStderr: true,
      });
      const stream = await exec.start({ hijack: true, stdin: false });
      let out = '';
      stream.on('data', (d: Buffer) => (out += d.toString()));
      await new Promise((done) => stream.on('end', done));
      if (!out.includes('ok')) throw new Error(`unexpected exec output: ${out}`);
    };

    const single = async (code: string) => {
      const dojo: number[] = [];
      const plain: number[] = [];
      for (let i = 0; i < 3; i++) await Promise.all([dojoStep(envIds[0]!, code)(), plainExec(containers[0]!, code)()]);
      for (let i = 0; i < iterations; i++) {
        dojo.push(await timed(dojoStep(envIds[0]!, code)));
        plain.push(await timed(plainExec(containers[0]!, code)));
      }
      return { dojo, plain };
    };
    const concurrent = async (code: string) => {
      const dojo: number[] = [];
      const plain: number[] = [];
      await Promise.all(envIds.map((id) => dojoStep(id, code)())); // warm-up: every session placed
      for (let i = 0; i < rounds; i++) {
        dojo.push(...(await Promise.all(envIds.map((id) => timed(dojoStep(id, code))))));
        plain.push(...(await Promise.all(containers.map((c) => timed(plainExec(c, code))))));
      }
      return { dojo, plain };
    };

    const report1 = (title: string, { dojo, plain }: { dojo: number[]; plain: number[] }) => {
      console.log(title);
      console.log(row('Dojo step (HTTP → Update → activity)', dojo));
      console.log(row('plain docker exec python3', plain));
      console.log(ratio(dojo, plain));
    };
    report1(`trivial step, 1 session, ${iterations} iterations each, alternating`, await single(TRIVIAL));
    report1(`ML step (pandas + sklearn fit), 1 session, ${iterations} iterations each`, await single(ML));
    report1(`trivial step, ${SESSIONS} concurrent sessions, ${rounds} rounds`, await concurrent(TRIVIAL));
    report1(`ML step, ${SESSIONS} concurrent sessions, ${rounds} rounds`, await concurrent(ML));
    await Promise.all(envIds.map((id) => bench.close(id)));

    const started = performance.now();
    const { id } = await anvil.rollouts.start({
      tasks: ['iris-species'],
      policy: 'heuristic',
      samplesPerTask: 32,
      concurrency: 8,
    });
    const result = (await client.workflow.getHandle(id).result()) as RolloutResult;
    const minutes = (performance.now() - started) / 60_000;
    const completed = result.episodes.filter((e) => e.status === 'completed').length;
    console.log(`rollouts: 32 heuristic episodes at concurrency 8 (${completed} completed)`);
    console.log(`  ${(result.episodes.length / minutes).toFixed(1)} episodes/min (${(minutes * 60).toFixed(1)} s)`);
  } finally {
    await Promise.all(plainKeys.map((key) => warm.stop(key)));
    await bench.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
