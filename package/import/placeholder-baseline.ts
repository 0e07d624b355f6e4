import type { TaskType } from '../../domain/task';
import { LAYOUT } from '../layout';

/** The importer's warning about the baseline it writes. */
export const PLACEHOLDER_BASELINE_WARNING =
  `${LAYOUT.baseline} is a placeholder that predicts one constant per column (it will not beat the trivial ` +
  'submission): replace it with a real solution';

/** solutions/baseline.py: one constant per predicted column, so the package is complete. */
export function placeholderBaseline(idColumn: string, taskType: TaskType): string {
  return `"""Placeholder baseline written by \`anvil import\`: one constant per predicted column (the training
mean for a regression, else the most frequent training value). Replace it with a real solution."""
import pandas as pd

ID, TASK_TYPE = ${JSON.stringify(idColumn)}, ${JSON.stringify(taskType)}

train = pd.read_csv("/data/train.csv")
test = pd.read_csv("/data/test.csv")
sample = pd.read_csv("/data/sample_submission.csv")


def constant(column):
    values = train[column].dropna() if column in train.columns else pd.Series(dtype=object)
    if values.empty:
        return sample[column].iloc[0]
    if TASK_TYPE in ("regression", "forecasting") and pd.api.types.is_numeric_dtype(values):
        return values.mean()
    return values.mode().iloc[0]


# one row per test id when test.csv has the id column, else the sample submission's rows
if ID in test.columns and ID in sample.columns:
    submission = pd.DataFrame({ID: test[ID]})
else:
    submission = sample[[sample.columns[0]]].copy()
for column in sample.columns:
    if column not in submission.columns:
        submission[column] = constant(column)
submission[list(sample.columns)].to_csv("/workspace/submission.csv", index=False)
`;
}
