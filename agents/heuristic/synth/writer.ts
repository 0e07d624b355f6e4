import { evaluationAndSubmission } from '../description';
import type { WriteInput, Writing } from '../../synth-roles';
import { seededRandom } from './random';
import { canonicalMetricName } from '../../../domain/metrics';

/** Settings a micro task can be told in: what a row is, what its columns and its target are. */
const DOMAINS = [
  {
    place: 'a network of vineyard soil sensors',
    row: 'one vineyard plot on one day',
    column: 'sensor reading',
    outcome: "the plot's yield grade",
  },
  {
    place: 'a regional bakery chain',
    row: 'one shop on one morning',
    column: 'recorded shop metric',
    outcome: "the morning's sales result",
  },
  {
    place: 'a fleet of delivery bicycles',
    row: 'one delivery route',
    column: 'route measurement',
    outcome: "the route's outcome",
  },
  {
    place: 'a community weather-balloon club',
    row: 'one balloon launch',
    column: 'flight measurement',
    outcome: "the launch's outcome",
  },
  {
    place: 'an online chess school',
    row: "one student's practice week",
    column: 'practice statistic',
    outcome: "the week's assessment",
  },
  {
    place: 'a marine-biology survey',
    row: 'one survey dive',
    column: 'dive observation',
    outcome: "the dive's finding",
  },
];

const KIND_WORDS: Record<string, string> = {
  numeric: 'a number',
  integer: 'a whole number',
  boolean: 'yes or no',
  categorical: 'a category code',
  text: 'free text (words in a house jargon)',
  datetime: 'a date',
};

/** The Writer by rules: a domain drawn from the task id, the public schema, no word about the rule. */
export function write({ taskId, taskType, metric, schema, rows }: WriteInput): Writing {
  const domain = DOMAINS[Math.floor(seededRandom(taskId)() * DOMAINS.length)]!;
  const { idColumn: id, target } = schema;
  const classify = taskType.endsWith('classification');
  const probability = canonicalMetricName(metric.name) === 'roc-auc';
  const what = probability
    ? `the probability that \`${target}\` is 1`
    : classify
      ? `\`${target}\`, one of ${schema.classes!.map((c) => `\`${c}\``).join(', ')}`
      : `\`${target}\`, a number`;
  const example = probability ? '0.5' : classify ? schema.classes![0] : '1.0';
  return {
    title: `${domain.place[0]!.toUpperCase()}${domain.place.slice(1)}: predict ${domain.outcome}`,
    description: `# ${domain.place[0]!.toUpperCase()}${domain.place.slice(1)}: predict ${domain.outcome}

## Overview

The data comes from ${domain.place}. Each row is ${domain.row}; its columns are anonymised
${domain.column}s. Your goal: predict ${what} for every row of \`test.csv\`. It is a small task
(${rows.train} training rows), made for fast experiments.

## Data

- \`train.csv\`: ${rows.train} rows with the target \`${target}\`.
- \`test.csv\`: ${rows.test} rows to predict, without \`${target}\`.
- \`sample_submission.csv\`: a valid submission in the expected format (a trivial guess).

| column | description |
| --- | --- |
| \`${id}\` | row id (a random number that carries no information) |
${schema.columns.map((c) => `| \`${c.name}\` | ${KIND_WORDS[c.kind] ?? c.kind}; may be empty |`).join('\n')}
| \`${target}\` | the target: ${classify ? (probability ? '1 or 0' : `one of ${schema.classes!.join(', ')}`) : 'a number'} |

${evaluationAndSubmission(metric, id, target, String(example))}`,
  };
}
