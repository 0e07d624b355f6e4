/**
 * The gateway with many keys: 50 authenticated sessions across 5 keys (10 each), on a real
 * embedded Temporal with the control worker.
 *   1. isolation: every key tries to read every other key's sessions (each must be a 404);
 *   2. a noisy key: the 4 quiet keys step their 40 sessions in rounds, alternately alone and while
 *      the 5th key, from its own process, fires steps at NOISY_STEPS_PER_S (far past its
 *      steps-per-minute limit, without waiting for answers) and tries to open sessions beyond its
 *      cap; printed: the quiet keys' step latency (median, p95) without and with the noisy key and
 *      their ratio (the goal: p95 within 1.5×), and the noisy key's answers. The bench fails
 *      (exit 1) unless the noisy key got 429s with Retry-After for both steps and opens.
 * Steps are `request_info` (HTTP → auth → Temporal Update → observation), so no sandbox runs and
 * the figure is the gateway's and Temporal's share, which is what keys compete for.
 *
 *   npx tsx bench/gateway-isolation.ts [rounds per phase] [phases]
 */
import { fork } from 'node:child_process';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { loadavg } from 'node:os';
import { createGateway } from '../gateway/server';
import { TEST_LIMITS, testKey, testKeyRing } from '../tests/helpers/keys';
import { publishPreparedIris } from '../tests/helpers/prepared-iris';
import { startEmbedded } from './embedded';
import { quantile } from './stats';

const KEYS = 5;
const SESSIONS_PER_KEY = 10;
const NOISY_LIMIT_PER_MINUTE = 12;
/** the noisy key's step requests per second: 200× its limit */
const NOISY_STEPS_PER_S = 40;
/** its attempts per second to open a session beyond its cap (it holds SESSIONS_PER_KEY, its limit) */
const NOISY_OPENS_PER_S = 4;
/** requests it has in flight at most (a client's connection pool) */
const NOISY_IN_FLIGHT = 32;

interface NoisyCounts {
  /** ["step 429", count], ["open 429", count], … */
  answers: [string, number][];
  /** 429s that came without a Retry-After header */
  noRetryAfter: number;
  retryAfter: number;
}

const ms = (v: number[], q: number) => `${quantile(v, q).toFixed(1).padStart(7)} ms`;

async function main(): Promise<void> {
  const rounds = Number(process.argv[2] ?? 10);
  const phases = Number(process.argv[3] ?? 3);
  const embedded = await startEmbedded(['control']);
  const { anvil, config } = embedded;
  try {
    publishPreparedIris(config.paths.catalog);
    const keys = Array.from({ length: KEYS }, (_, i) =>
      testKey(
        `trainer-${i}`,
        'user',
        i === KEYS - 1 ? { stepsPerMinute: NOISY_LIMIT_PER_MINUTE, sessions: SESSIONS_PER_KEY } : {},
      ),
    );
    const app = createGateway({ envs: anvil.envs, auth: { keys: testKeyRing(keys, TEST_LIMITS) } });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    const call = (token: string, method: string, path: string, body?: unknown) =>
      fetch(`${url}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });

    const sessions = await Promise.all(
      keys.flatMap((key) =>
        Array.from({ length: SESSIONS_PER_KEY }, async () => {
          const res = await call(key.token, 'POST', '/v1/envs', { taskId: 'iris-species', budget: { steps: 1000 } });
          if (res.status !== 201) throw new Error(`open answered ${res.status}: ${await res.text()}`);
          return { key, envId: ((await res.json()) as { envId: string }).envId };
        }),
      ),
    );
    console.log(`${sessions.length} sessions open across ${KEYS} keys`);

    let seen = 0;
    let leaked = 0;
    for (const key of keys) {
      for (const s of sessions.filter((x) => x.key !== key)) {
        const res = await call(key.token, 'GET', `/v1/envs/${s.envId}`);
        seen += 1;
        if (res.status !== 404) leaked += 1;
      }
    }
    console.log(`isolation: ${seen} reads of other keys' sessions, ${leaked} not answered 404`);

    const quiet = sessions.filter((s) => s.key !== keys[KEYS - 1]);
    const noisy = sessions.filter((s) => s.key === keys[KEYS - 1]);
    const step = async ({ key, envId }: (typeof sessions)[number]) => {
      const started = performance.now();
      const res = await call(key.token, 'POST', `/v1/envs/${envId}/step`, { action: 'request_info' });
      await res.arrayBuffer();
      return { ms: performance.now() - started, status: res.status, retryAfter: res.headers.get('retry-after') };
    };
    const quietRounds = async () => {
      const latencies: number[] = [];
      for (let r = 0; r < rounds; r++) {
        const results = await Promise.all(quiet.map(step));
        for (const x of results) {
          if (x.status !== 200) throw new Error(`a quiet key's step answered ${x.status}`);
          latencies.push(x.ms);
        }
      }
      return latencies;
    };

    // The noisy key is another client, as if on another machine: a process of its own, at the lowest
    // CPU priority, so that on a shared host what it costs the others is its requests, not its own CPU.
    let noisySeconds = 0;
    const beside = async <T>(work: () => Promise<T>): Promise<[T, NoisyCounts]> => {
      const hammer = fork(__filename, ['--noisy', url, noisy[0]!.key.token, ...noisy.map((s) => s.envId)], {
        execPath: 'nice',
        execArgv: ['-n', '19', process.execPath, ...process.execArgv],
      });
      await once(hammer, 'message'); // started
      const started = performance.now();
      const result = await work();
      noisySeconds += (performance.now() - started) / 1000;
      hammer.send('stop');
      const [counts] = (await once(hammer, 'message')) as [NoisyCounts];
      return [result, counts];
    };
    /** this process's CPU (gateway, control worker, quiet clients) per second of `work`'s wall time */
    const cpuOf = async <T>(work: () => Promise<T>): Promise<[T, number]> => {
      const [cpu, wall] = [process.cpuUsage(), performance.now()];
      const result = await work();
      const used = process.cpuUsage(cpu);
      return [result, (used.user + used.system) / 1000 / (performance.now() - wall)];
    };
    const tally = (answers: Map<string, number>) => [...answers].map(([answer, n]) => `${n}× ${answer}`).join(', ');

    // Warm-up, with the noisy key firing: it spends its burst (a full minute's steps) here, so the
    // phases measure a key over its limit, not one within it.
    const [, warmup] = await beside(quietRounds);
    const warmupSeconds = noisySeconds;
    console.log(`warm-up: the noisy key got ${tally(new Map(warmup.answers))}`);
    const alone: number[] = [];
    const withNoise: number[] = [];
    const cpu = { alone: [] as number[], noisy: [] as number[] };
    const noisyAnswers = new Map<string, number>();
    let retryAfter = warmup.retryAfter;
    let noRetryAfter = warmup.noRetryAfter;
    for (let p = 0; p < phases; p++) {
      const [quietAlone, cpuAlone] = await cpuOf(quietRounds);
      alone.push(...quietAlone);
      cpu.alone.push(cpuAlone);
      console.log(`  phase ${p + 1}/${phases}: alone p95 ${ms(alone, 0.95)} (load ${loadavg()[0]!.toFixed(1)})`);
      const [[quietNoisy, cpuNoisy], counts] = await beside(() => cpuOf(quietRounds));
      withNoise.push(...quietNoisy);
      cpu.noisy.push(cpuNoisy);
      console.log(
        `  phase ${p + 1}/${phases}: beside the noisy key p95 ${ms(withNoise, 0.95)} (load ${loadavg()[0]!.toFixed(1)})`,
      );
      for (const [answer, n] of counts.answers) noisyAnswers.set(answer, (noisyAnswers.get(answer) ?? 0) + n);
      retryAfter = Math.max(retryAfter, counts.retryAfter);
      noRetryAfter += counts.noRetryAfter;
    }
    const warmupAnswers = new Map(warmup.answers);
    const phaseSeconds = noisySeconds - warmupSeconds;

    console.log(
      `quiet keys' steps (${quiet.length} sessions × ${rounds} rounds × ${phases} phases each way, alternating)`,
    );
    console.log(`  alone                 median ${ms(alone, 0.5)}   p95 ${ms(alone, 0.95)}`);
    console.log(`  beside a noisy key    median ${ms(withNoise, 0.5)}   p95 ${ms(withNoise, 0.95)}`);
    const ratio = quantile(withNoise, 0.95) / quantile(alone, 0.95);
    console.log(`  ratio p95 (noisy / alone): ${ratio.toFixed(2)}× (goal ≤ 1.5×)`);
    const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
    console.log(
      `  this process's CPU (gateway, worker, quiet clients): ${mean(cpu.alone).toFixed(2)} cores alone, ` +
        `${mean(cpu.noisy).toFixed(2)} beside the noisy key`,
    );
    console.log(
      `noisy key (limits ${NOISY_LIMIT_PER_MINUTE} steps/min and ${SESSIONS_PER_KEY} sessions; fired ` +
        `${NOISY_STEPS_PER_S} steps/s and ${NOISY_OPENS_PER_S} opens/s) in the phases: ${tally(noisyAnswers)} ` +
        `(${([...noisyAnswers.values()].reduce((a, b) => a + b, 0) / phaseSeconds).toFixed(1)} answers/s); ` +
        `Retry-After up to ${retryAfter} s`,
    );
    await Promise.all(sessions.map((s) => call(s.key.token, 'DELETE', `/v1/envs/${s.envId}`)));
    await app.close();
    const failed = [
      !(noisyAnswers.get('step 429') ?? 0) && 'no step of the noisy key was refused with a 429',
      !noisyAnswers.get('open 429') && 'no session the noisy key opened beyond its cap was refused with a 429',
      (noisyAnswers.get('open 201') ?? warmupAnswers.get('open 201')) && 'the noisy key opened sessions beyond its cap',
      noRetryAfter > 0 && `${noRetryAfter} of the noisy key's 429s came without Retry-After`,
      leaked > 0 && `${leaked} reads of another key's session were not 404s`,
    ].filter(Boolean);
    if (failed.length) throw new Error(`the bench's checks failed: ${failed.join('; ')}`);
    console.log("checks: the noisy key got 429s with Retry-After for steps and opens; no key saw another's sessions");
  } finally {
    await embedded.stop();
  }
}

/**
 * The noisy key's client (a child process): fires NOISY_STEPS_PER_S steps a second at its sessions
 * and NOISY_OPENS_PER_S session opens, never waiting for an answer before the next (up to
 * NOISY_IN_FLIGHT at once) and ignoring Retry-After.
 */
async function noisyClient([url, token, ...envIds]: string[]): Promise<void> {
  let inFlight = 0;
  let fired = 0;
  let retryAfter = 0;
  let noRetryAfter = 0;
  const answers = new Map<string, number>();
  const send = async (route: 'step' | 'open') => {
    if (inFlight >= NOISY_IN_FLIGHT) return;
    inFlight += 1;
    try {
      const path = route === 'step' ? `/v1/envs/${envIds[fired++ % envIds.length]}/step` : '/v1/envs';
      const body = route === 'step' ? { action: 'request_info' } : { taskId: 'iris-species' };
      const res = await fetch(`${url}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      const answer = await res.text();
      answers.set(`${route} ${res.status}`, (answers.get(`${route} ${res.status}`) ?? 0) + 1);
      if (res.status === 429) {
        const seconds = Number(res.headers.get('retry-after'));
        if (!(seconds >= 1)) noRetryAfter += 1;
        retryAfter = Math.max(retryAfter, seconds || 0);
      }
      if (res.status === 201) {
        // Beyond its cap: must not happen (the bench fails); close it so that nothing leaks.
        const { envId } = JSON.parse(answer) as { envId: string };
        await fetch(`${url}/v1/envs/${envId}`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } });
      }
    } catch {
      answers.set(`${route} error`, (answers.get(`${route} error`) ?? 0) + 1);
    } finally {
      inFlight -= 1;
    }
  };
  const steps = setInterval(() => void send('step'), 1000 / NOISY_STEPS_PER_S);
  const opens = setInterval(() => void send('open'), 1000 / NOISY_OPENS_PER_S);
  await new Promise<void>((stop) => {
    process.on('message', () => stop());
    process.send!('started');
  });
  clearInterval(steps);
  clearInterval(opens);
  while (inFlight > 0) await new Promise((settle) => setTimeout(settle, 20));
  const counts: NoisyCounts = { answers: [...answers], noRetryAfter, retryAfter };
  process.send!(counts, () => process.exit(0));
}

const noisy = process.argv.indexOf('--noisy');
(noisy >= 0 ? noisyClient(process.argv.slice(noisy + 1)) : main()).catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
