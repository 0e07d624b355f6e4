import type { ColumnProfile, DatasetProfile } from '../../domain/profile';
import type { MetricSpec } from '../../domain/task';
import { knownMetric } from '../../domain/metrics';
import type { TaskProposal } from '../../domain/proposal';
import type { DesignConfig } from './designer';

function describeColumn(c: ColumnProfile): string {
  if (c.stats) return `${c.kind}, ${+c.stats.min.toPrecision(4)} to ${+c.stats.max.toPrecision(4)}`;
  if (c.top?.length)
    return `${c.kind}, e.g. ${c.top
      .slice(0, 4)
      .map((t) => `\`${t.value}\``)
      .join(', ')}`;
  if (c.meanLength) return `${c.kind}, about ${Math.round(c.meanLength)} characters`;
  return c.kind;
}

/** description.md: overview, data dictionary, evaluation, submission format. */
export function writeDescription(profile: DatasetProfile, proposal: TaskProposal, config: DesignConfig): string {
  const { target, id } = config;
  const kept = profile.columns.filter((c) => !config.drop.includes(c.name));
  const split = config.time
    ? `The test rows are the latest ${Math.round(config.testFraction * 100)}% by \`${config.time}\`: you forecast the future from the past.`
    : `The test rows are a ${config.stratify ? 'stratified ' : ''}random ${Math.round(config.testFraction * 100)}% of the data (seed ${config.seed}).`;
  const binary =
    config.positive !== undefined
      ? ` In these files \`${target}\` is 1 where the original value was \`${config.positive}\`, else 0; predict the probability that it is 1.`
      : '';
  const example =
    config.positive !== undefined ? '0.5' : proposal.taskType.endsWith('classification') ? '<label>' : '<number>';
  return `# ${proposal.title}

## Overview

${proposal.rationale}. Your goal: predict \`${target}\` for every row of \`test.csv\`. The data is the
\`${profile.name}\` dataset (${profile.rows} rows).

## Data

- \`train.csv\`: the training rows, with the target \`${target}\`.
- \`test.csv\`: the rows to predict, without \`${target}\`.
- \`sample_submission.csv\`: a valid submission in the expected format (a trivial guess).

${split}${binary} Every row has an id \`${id}\` (a random number that carries no information).

| column | description |
| --- | --- |
| \`${id}\` | row id |
${kept.map((c) => `| \`${c.name}\` | ${c.name === target ? 'the target; ' : ''}${describeColumn(c)}${c.missing > 0 ? `, ${Math.round(c.missing * 1000) / 10}% missing` : ''} |`).join('\n')}

${evaluationAndSubmission(proposal.metric, id, target, example)}`;
}

/** The Evaluation and Submission format sections every heuristic description ends with. */
export function evaluationAndSubmission(metric: MetricSpec, id: string, target: string, example: string): string {
  return `## Evaluation

Submissions are scored with ${metric.name}: ${knownMetric(metric.name)?.explain ?? (metric.higherIsBetter ? 'higher is better' : 'lower is better')}.

## Submission format

A CSV file with a header and exactly two columns, \`${id}\` and \`${target}\`, and one row for each
row of \`test.csv\`:

\`\`\`
${id},${target}
100000,${example}
\`\`\`
`;
}
