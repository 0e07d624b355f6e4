import type { DatasetProfile } from '../../domain/profile';
import type { TaskProposal } from '../../domain/proposal';
import { TASK_SCHEMA } from '../../domain/task';
import { LAYOUT } from '../../package/layout';
import type { Design } from '../roles';
import { evaluationAndSubmission } from './description';
import { fromTemplate } from './template';

/** A class needs this many images to be kept. */
const MIN_CLASS_IMAGES = 5;
/** Images are resized to this many pixels a side for the baseline (digits: 8 stays 8 up to 16). */
const BASELINE_SIZE = 16;

/** What the image templates (prepare_images.py, baseline_images.py) read from their CONFIG line. */
export interface ImageDesignConfig {
  id: string;
  image: string;
  target: string;
  taskType: string;
  metric: string;
  classes: string[];
  positive?: string;
  seed: number;
  testFraction: number;
  size: number;
}

/** An image classification task: train/ and test/ folders of PNGs under fresh ids, labels in train.csv. */
export function designImageTask(profile: DatasetProfile, proposal: TaskProposal, profileName = 'python-ml'): Design {
  const images = profile.images!;
  const top = profile.columns.find((c) => c.name === proposal.target)?.top ?? [];
  const ranked = [...top].sort((a, b) => b.count - a.count || a.value.localeCompare(b.value));
  const binary = proposal.taskType === 'binary-classification';
  const classes = (binary ? ranked.slice(0, 2) : ranked.filter((t) => t.count >= MIN_CLASS_IMAGES)).map((t) => t.value);
  const config: ImageDesignConfig = {
    id: 'id',
    image: images.column,
    target: proposal.target,
    taskType: proposal.taskType,
    metric: proposal.metric.name,
    classes,
    positive: binary ? classes.at(-1) : undefined,
    seed: 42,
    testFraction: 0.2,
    size: BASELINE_SIZE,
  };
  const manifest = {
    schema: TASK_SCHEMA,
    id: proposal.id,
    title: proposal.title,
    taskType: proposal.taskType,
    modality: 'image',
    target: proposal.target,
    idColumn: config.id,
    metric: proposal.metric,
    resources: { cpus: 1, memoryMb: 2048, gpu: false, timeLimitS: 900 },
    sandbox: { profile: profileName },
    source: { dataset: profile.name, images: images.count, layout: images.layout },
    split: { method: 'stratified', testFraction: config.testFraction, seed: config.seed },
  };
  return {
    files: {
      [LAYOUT.manifest]: `${JSON.stringify(manifest, null, 2)}\n`,
      [LAYOUT.description]: describeImageTask(profile, proposal, config),
      [LAYOUT.prepare]: fromTemplate('prepare_images.py', config),
      [LAYOUT.metric]: fromTemplate('metric.py', { id: config.id, target: config.target, metric: config.metric }),
      [LAYOUT.baseline]: fromTemplate('baseline_images.py', config),
    },
    notes: { config },
  };
}

function describeImageTask(profile: DatasetProfile, proposal: TaskProposal, config: ImageDesignConfig): string {
  const { id, image, target } = config;
  const binary =
    config.positive !== undefined
      ? ` In these files \`${target}\` is 1 where the image's class was \`${config.positive}\`, else 0; predict the probability that it is 1.`
      : '';
  const example = config.positive !== undefined ? '0.5' : '<label>';
  return `# ${proposal.title}

## Overview

${proposal.rationale}. Your goal: predict the \`${target}\` of every image in \`test/\`. The data is the
\`${profile.name}\` image set (${profile.images!.count} distinct images; classes: ${config.classes.map((c) => `\`${c}\``).join(', ')}).

## Data

- \`train/\`: the training images (PNG), one file per image named by its id.
- \`test/\`: the images to label, named the same way.
- \`train.csv\`: \`${id}\`, \`${image}\` (the file's path under the data folder, e.g. \`train/100123.png\`) and \`${target}\`.
- \`test.csv\`: \`${id}\` and \`${image}\` of every test image.
- \`sample_submission.csv\`: a valid submission in the expected format (a trivial guess).

The test images are a stratified random ${Math.round(config.testFraction * 100)}% of the distinct images (seed ${config.seed}).${binary}
Ids are random numbers that carry no information; images were re-encoded as PNG, without metadata.

${evaluationAndSubmission(proposal.metric, id, target, example)}`;
}
