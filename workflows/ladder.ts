import { patched } from '@temporalio/workflow';
import { LADDER_WINDOW, ladderLanes, offBelowTrivial, type RungResult } from '../domain/ladder';
import { ladderActivities } from './activity-proxies';

const failed = (err: unknown) =>
  `its run failed: ${err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err)}`;

/**
 * Runs the package's reference ladder on the cpu queue, at most LADDER_WINDOW activities at once. A
 * rung that crashes, times out or writes an invalid submission is recorded with the reason; the
 * others go on. A rung that scores worse than the sample submission (`trivial`) is left off the board.
 * Since `ladder-lanes`: the rungs are dealt round-robin into LADDER_WINDOW lanes (the expensive ones,
 * last in the table, spread), each lane one activity: one container runs its rungs, one grades them.
 */
export async function runLadder(packageDir: string, trivial: number | undefined): Promise<RungResult[]> {
  const ladder = ladderActivities();
  const { rungs, higherIsBetter } = await ladder.writeLadder({ packageDir });
  let results: RungResult[];
  if (patched('ladder-lanes')) {
    const lanes = ladderLanes(rungs);
    const byRung = new Map(
      (
        await Promise.all(
          lanes.map((lane) =>
            ladder
              .runLadderLane({ packageDir, rungs: lane })
              .catch((err: unknown) => lane.map((rung): RungResult => ({ rung, error: failed(err) }))),
          ),
        )
      )
        .flat()
        .map((r) => [r.rung, r]),
    );
    results = rungs.map((rung) => byRung.get(rung) ?? { rung, error: 'its lane returned no result' });
  } else {
    results = [];
    let next = 0;
    const lane = async () => {
      while (next < rungs.length) {
        const i = next++;
        const rung = rungs[i]!;
        results[i] = await ladder
          .runLadderRung({ packageDir, rung })
          .catch((err: unknown) => ({ rung, error: failed(err) }));
      }
    };
    await Promise.all(Array.from({ length: Math.min(LADDER_WINDOW, rungs.length) }, lane));
  }
  return offBelowTrivial(results, trivial, { higherIsBetter });
}
