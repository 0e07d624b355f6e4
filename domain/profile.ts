import type { TaskType } from './task';

export type ColumnKind = 'numeric' | 'integer' | 'boolean' | 'categorical' | 'text' | 'datetime' | 'id' | 'constant';

export interface ColumnProfile {
  name: string;
  kind: ColumnKind;
  /** fraction of rows with no value */
  missing: number;
  distinct: number;
  /** numeric and integer columns */
  stats?: { min: number; max: number; mean: number; std: number };
  /** the most frequent values, for categorical and boolean columns (at most 20) */
  top?: { value: string; count: number }[];
  /** text columns: mean length in characters */
  meanLength?: number;
  /** why this column is no target (an identifier, a coordinate, a date part, a total of other columns…) */
  notTarget?: string;
}

export interface CandidateTarget {
  column: string;
  taskType: TaskType;
  /** higher = a better target; candidates are sorted by it */
  score: number;
  reason: string;
  /**
   * what the data was collected to predict (named like an outcome, named by the dataset's documentation,
   * or a time-indexed series), as opposed to a column that could merely be predicted
   */
  outcome: boolean;
}

export interface LeakageSuspect {
  column: string;
  /** the candidate target it nearly determines */
  target: string;
  reason: string;
}

/** An image dataset: data.csv names each image (a path relative to it) and its label. */
export interface ImageSet {
  /** the column of data.csv holding each image's path */
  column: string;
  /** distinct images (content-addressed: exact duplicates are one file) */
  count: number;
  /** how the input gave the labels */
  layout: 'labels-table' | 'class-folders';
}

/** What intake learns about a dataset; `dataFile` is the canonical CSV every package's raw/ holds. */
export interface DatasetProfile {
  /** a slug from the dataset's name, for task ids */
  name: string;
  source: {
    files: { path: string; sha256: string; bytes: number }[];
    format: 'csv' | 'tsv' | 'json' | 'jsonl' | 'parquet' | 'folder' | 'images';
  };
  /** canonical CSV (comma, header, UTF-8) in the artifact store */
  dataFile: string;
  rows: number;
  columns: ColumnProfile[];
  candidateTargets: CandidateTarget[];
  idColumns: string[];
  timeColumns: string[];
  textColumns: string[];
  leakageSuspects: LeakageSuspect[];
  /** columns that with the time column (if any) identify a row: the series of a panel, the cells of a designed table */
  keyColumns: string[];
  /** the time column the rows are indexed by (alone or with keyColumns): numeric series are forecast along it */
  timeIndex?: string;
  /** set when the dataset is a folder of labelled images (data.csv then holds image paths and labels) */
  images?: ImageSet;
  /** the dataset's own README or description (from the input folder), cut to a few thousand characters */
  documentation?: string;
}

/** What intake returns through Temporal: the profile stays on disk, referenced by path. */
export interface IntakeResult {
  name: string;
  /** profile.json beside the canonical data.csv */
  profileFile: string;
  rows: number;
  columns: number;
  candidateTargets: number;
}
