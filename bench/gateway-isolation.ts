/**
 * The gateway with many keys: 50 authenticated sessions across 5 keys (10 each), on a real
 * embedded Temporal with the control worker.
 *   1. isolation: every key tries to read every other key's sessions (each must be a 404);
 *   2. a noisy key: the 4 quiet keys step their 40 sessions in rounds, alternately alone and while
 *      the 5th key hammers the gateway far past its steps-per-minute limit; printed: the quiet
 *      keys' step latency (median, p95) without and with the noisy key and their ratio (the goal:
 *      p95 within 1.5×), and the noisy key's answers (429s with Retry-After).
 * Steps are `request_info` (HTTP → auth → Temporal Update → observation), so no sandbox runs and
 * the figure is the gateway's and Temporal's share, which is what keys compete for.
 *
 *   npx tsx bench/gateway-isolation.ts [rounds per phase] [phases]
 */
import { fork } from 'node:child_process';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { createGateway } from '../gateway/server';
import { TEST_LIMITS, testKey, testKeyRing } from '../tests/helpers/keys';
import { publishPreparedIris } from '../tests/helpers/prepared-iris';
import { startEmbedded } from './embedded';
import { quantile } from './stats';

const KEYS = 5;
const SESSIONS_PER_KEY = 10;
const NOISY_LIMIT_PER_MINUTE = 120;
const NOISY_LOOPS = 8;

const ms = (v: number[], q: number) => `${quantile(v, q).toFixed(1).padStart(7)} ms`;

async function main(): Promise<void> {
  const rounds = Number(process.argv[2] ?? 10);
  const phases = Number(process.argv[3] ?? 3);
  const embedded = await startEmbedded(['control']);
  const { anvil, config } = embedded;
  try {
    publishPreparedIris(config.paths.catalog);
    const keys = Array.from({ length: KEYS }, (_, i) =>
      testKey(`trainer-${i}`, 'user', i === KEYS - 1 ? { stepsPerMinute: NOISY_LIMIT_PER_MINUTE } : {}),
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

    await quietRounds(); // warm-up
    const alone: number[] = [];
    const withNoise: number[] = [];
    const noisyAnswers = new Map<number, number>();
    let retryAfter = 0;
    for (let p = 0; p < phases; p++) {
      alone.push(...(await quietRounds()));
      console.log(`  phase ${p + 1}/${phases}: alone p95 ${ms(alone, 0.95)}`);
      // The noisy key is another client: its own process, so its loops cost the gateway's process nothing but its requests.
      const hammer = fork(__filename, ['--noisy', url, noisy[0]!.key.token, ...noisy.map((s) => s.envId)], {
        execArgv: process.execArgv,
      });
      await once(hammer, 'message'); // started
      withNoise.push(...(await quietRounds()));
      console.log(`  phase ${p + 1}/${phases}: beside the noisy key p95 ${ms(withNoise, 0.95)}`);
      hammer.send('stop');
      const [counts] = (await once(hammer, 'message')) as [{ answers: [number, number][]; retryAfter: number }];
      for (const [status, n] of counts.answers) noisyAnswers.set(status, (noisyAnswers.get(status) ?? 0) + n);
      retryAfter = Math.max(retryAfter, counts.retryAfter);
    }

    console.log(
      `quiet keys' steps (${quiet.length} sessions × ${rounds} rounds × ${phases} phases each way, alternating)`,
    );
    console.log(`  alone                 median ${ms(alone, 0.5)}   p95 ${ms(alone, 0.95)}`);
    console.log(`  beside a noisy key    median ${ms(withNoise, 0.5)}   p95 ${ms(withNoise, 0.95)}`);
    const ratio = quantile(withNoise, 0.95) / quantile(alone, 0.95);
    console.log(`  ratio p95 (noisy / alone): ${ratio.toFixed(2)}× (goal ≤ 1.5×)`);
    const answers = [...noisyAnswers].map(([status, n]) => `${n}× ${status}`).join(', ');
    console.log(
      `noisy key (limit ${NOISY_LIMIT_PER_MINUTE}/min, ${NOISY_LOOPS} loops): ${answers}; Retry-After up to ${retryAfter} s`,
    );
    await Promise.all(sessions.map((s) => call(s.key.token, 'DELETE', `/v1/envs/${s.envId}`)));
    await app.close();
  } finally {
    await embedded.stop();
  }
}

/** The noisy key's client (a child process): NOISY_LOOPS loops stepping its sessions, ignoring Retry-After. */
async function noisyClient([url, token, ...envIds]: string[]): Promise<void> {
  let stop = false;
  let retryAfter = 0;
  const answers = new Map<number, number>();
  process.on('message', () => (stop = true));
  process.send!('started');
  await Promise.all(
    Array.from({ length: NOISY_LOOPS }, async (_, i) => {
      while (!stop) {
        const res = await fetch(`${url}/v1/envs/${envIds[i % envIds.length]}/step`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ action: 'request_info' }),
        });
        await res.arrayBuffer();
        answers.set(res.status, (answers.get(res.status) ?? 0) + 1);
        retryAfter = Math.max(retryAfter, Number(res.headers.get('retry-after') ?? 0));
      }
    }),
  );
  process.send!({ answers: [...answers], retryAfter }, () => process.exit(0));
}

const noisy = process.argv.indexOf('--noisy');
(noisy >= 0 ? noisyClient(process.argv.slice(noisy + 1)) : main()).catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
