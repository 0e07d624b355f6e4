import type { DatasetProfile } from '../../domain/profile';
import type { TaskProposal } from '../../domain/proposal';
import { type ForecastSpec, TASK_SCHEMA } from '../../domain/task';
import { LAYOUT } from '../../package/layout';
import type { Design } from '../roles';
import { evaluationAndSubmission } from './description';
import { fromTemplate } from './template';

/** What the forecast templates read from their CONFIG line. */
export interface ForecastConfig extends ForecastSpec {
  id: string;
  target: string;
  taskType: 'forecasting';
  metric: string;
  seed: number;
}

/** The test covers this share of the distinct time steps, at most MAX_HORIZON of them. */
const HORIZON_SHARE = 0.1;
const MAX_HORIZON = 60;

/** The time column and series keys a forecast of `target` runs along, when the profile has them. */
export function forecastAxis(profile: DatasetProfile, target: string): Omit<ForecastSpec, 'horizon'> | undefined {
  const time = profile.timeIndex ?? profile.timeColumns[0];
  if (!time || time === target) return undefined;
  return { time, series: profile.keyColumns.filter((k) => k !== time && k !== target) };
}

/**
 * A forecasting package: each series' past is train, its next `horizon` steps are test (one origin for
 * all series), test.csv holds only ids, series keys and times, and the baseline forecasts from lag
 * and rolling features of the past (templates forecast_prepare.py and forecast_baseline.py).
 */
export function designForecast(
  profile: DatasetProfile,
  proposal: TaskProposal,
  axis: Omit<ForecastSpec, 'horizon'>,
): Design {
  const steps = profile.columns.find((c) => c.name === axis.time)?.distinct ?? profile.rows;
  const horizon = Math.max(1, Math.min(MAX_HORIZON, Math.round(steps * HORIZON_SHARE)));
  const id = [...axis.series, axis.time, proposal.target].includes('id') ? 'row_id' : 'id';
  const config: ForecastConfig = {
    id,
    target: proposal.target,
    taskType: 'forecasting',
    metric: proposal.metric.name,
    seed: 42,
    ...axis,
    horizon,
  };
  const forecast: ForecastSpec = { time: axis.time, series: axis.series, horizon };
  const manifest = {
    schema: TASK_SCHEMA,
    id: proposal.id,
    title: proposal.title,
    taskType: 'forecasting',
    modality: proposal.modality,
    target: proposal.target,
    idColumn: id,
    metric: proposal.metric,
    resources: { cpus: 1, memoryMb: 2048, gpu: false, timeLimitS: 900 },
    forecast,
    source: {
      dataset: profile.name,
      files: profile.source.files.map((f) => ({ name: f.path.split('/').at(-1), sha256: f.sha256, bytes: f.bytes })),
    },
    split: { method: 'forecast-origin', horizon, seed: config.seed },
  };
  return {
    files: {
      [LAYOUT.manifest]: `${JSON.stringify(manifest, null, 2)}\n`,
      [LAYOUT.description]: forecastDescription(profile, proposal, config),
      [LAYOUT.prepare]: fromTemplate('forecast_prepare.py', config),
      [LAYOUT.metric]: fromTemplate('metric.py', { id, target: config.target, metric: config.metric }),
      [LAYOUT.baseline]: fromTemplate('forecast_baseline.py', config),
    },
    notes: { config, forecast: true },
  };
}

function forecastDescription(profile: DatasetProfile, proposal: TaskProposal, c: ForecastConfig): string {
  const series = c.series.length
    ? `one series per ${c.series.map((k) => `\`${k}\``).join(' and ')}`
    : 'a single series';
  return `# ${proposal.title}

## Overview

${proposal.rationale}. Your goal: forecast \`${c.target}\` for the next ${c.horizon} time steps of
${series}, from its past. The data is the \`${profile.name}\` dataset (${profile.rows} rows).

## Data

- \`train.csv\`: every series up to the forecast origin (the last \`${c.time}\` in this file, the same for
  all series): \`${c.id}\`, ${[...c.series, c.time].map((k) => `\`${k}\``).join(', ')} and the target \`${c.target}\`.
- \`test.csv\`: the ${c.horizon} time steps after the origin for each series, without \`${c.target}\`
  (only \`${c.id}\`, ${[...c.series, c.time].map((k) => `\`${k}\``).join(', ')}): nothing after the origin is known.
- \`sample_submission.csv\`: a valid submission in the expected format (the training mean).

Every row has an id \`${c.id}\` (a random number that carries no information). Use lags and rolling
statistics of each series' past; values of the test period are never available as inputs.

${evaluationAndSubmission(proposal.metric, c.id, c.target, '<number>')}`;
}
