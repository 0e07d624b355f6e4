import { describe, expect, it } from 'vitest';
import { describeVariant, drawVariant, episodeVariant, FIDELITY_LADDER, MODEL_FAMILIES } from '../domain/policy-space';

describe('the policy space', () => {
  it('draws the same variant for the same seed and sample, and different ones across samples and seeds', () => {
    expect(drawVariant(3, 5)).toEqual(drawVariant(3, 5));
    const batch = (seed: number) => Array.from({ length: 8 }, (_, i) => describeVariant(drawVariant(seed, i)));
    expect(batch(0)).toEqual(batch(0));
    expect(new Set(batch(0)).size).toBeGreaterThanOrEqual(6);
    expect(batch(1)).not.toEqual(batch(0));
  });

  it('spans every model family, feature and row share over many draws', () => {
    const draws = Array.from({ length: 400 }, (_, i) => drawVariant(11, i));
    expect(new Set(draws.map((d) => d.family))).toEqual(new Set(MODEL_FAMILIES));
    expect(new Set(draws.map((d) => d.trainShare)).size).toBeGreaterThanOrEqual(4);
    expect(new Set(draws.map((d) => d.featureShare)).size).toBeGreaterThanOrEqual(4);
    for (const d of draws) expect(d.trainShare).toBeGreaterThan(0);
  });

  it("gives a rollout's episode its fidelity rung, its seeded draw, or nothing (the baseline)", () => {
    expect(FIDELITY_LADDER.length).toBeGreaterThanOrEqual(5);
    expect(episodeVariant(1, { fidelity: true })).toEqual(FIDELITY_LADDER[1]!.variant);
    expect(episodeVariant(2, { seed: 9 })).toEqual(drawVariant(9, 2));
    expect(episodeVariant(2, {})).toBeUndefined();
  });
});
