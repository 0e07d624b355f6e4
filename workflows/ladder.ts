import { LADDER_WINDOW, offBelowTrivial, type RungResult } from '../domain/ladder';
import { ladderActivities } from './activity-proxies';

/**
 * Runs the package's reference ladder: each rung its own cpu-queue activity, at most LADDER_WINDOW
 * at once. A rung whose activity fails for good is recorded with the reason; the others go on. A
 * rung that scores worse than the sample submission (`trivial`) is left off the board.
 */
export async function runLadder(packageDir: string, trivial: number | undefined): Promise<RungResult[]> {
  const ladder = ladderActivities();
  const { rungs, higherIsBetter } = await ladder.writeLadder({ packageDir });
  const results: RungResult[] = [];
  let next = 0;
  const lane = async () => {
    while (next < rungs.length) {
      const i = next++;
      const rung = rungs[i]!;
      results[i] = await ladder.runLadderRung({ packageDir, rung }).catch((err: unknown) => ({
        rung,
        error: `its run failed: ${err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err)}`,
      }));
    }
  };
  await Promise.all(Array.from({ length: Math.min(LADDER_WINDOW, rungs.length) }, lane));
  return offBelowTrivial(results, trivial, { higherIsBetter });
}
