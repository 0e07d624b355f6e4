CONFIG = {}  # written by the Designer (agents/heuristic/designer.ts)
"""Scores a submission against the private answers; InvalidSubmission says what is wrong."""
import numpy as np
import pandas as pd
from sklearn.metrics import f1_score, roc_auc_score


class InvalidSubmission(Exception):
    """The submission cannot be scored; the message says why and what to fix."""


def _as_labels(values: pd.Series) -> np.ndarray:
    """Labels compared as text, with 2.0 and 2 read as the same label."""
    numeric = pd.to_numeric(values, errors="coerce")
    if numeric.notna().all() and (numeric == numeric.round()).all():
        return numeric.astype("int64").astype(str).values
    return values.astype(str).values


def _as_numbers(values: pd.Series, column: str) -> np.ndarray:
    numeric = pd.to_numeric(values, errors="coerce")
    if numeric.isna().any():
        bad = values[numeric.isna()].head(3).tolist()
        raise InvalidSubmission(f"column {column!r} must hold numbers; got e.g. {bad}")
    return numeric.astype(float).values


def _aligned(submission: pd.DataFrame, answers: pd.DataFrame):
    id_col, target = CONFIG["id"], CONFIG["target"]
    expected = [id_col, target]
    if list(submission.columns) != expected:
        raise InvalidSubmission(f"columns must be exactly {expected}; got {list(submission.columns)}")
    duplicated = submission[id_col][submission[id_col].duplicated()]
    if len(duplicated):
        raise InvalidSubmission(f"{len(duplicated)} duplicated ids, e.g. {duplicated.head(3).tolist()}")
    missing = set(answers[id_col]) - set(submission[id_col])
    if missing:
        raise InvalidSubmission(f"{len(missing)} test ids have no prediction, e.g. {sorted(missing)[:3]}")
    extra = set(submission[id_col]) - set(answers[id_col])
    if extra:
        raise InvalidSubmission(f"{len(extra)} ids are not in the test set, e.g. {sorted(map(str, extra))[:3]}")
    empty = submission[target].isna().sum()
    if empty:
        raise InvalidSubmission(f"{empty} predictions are empty or NaN; predict every row")
    merged = answers.merge(submission, on=id_col, suffixes=("_true", "_pred"))
    return merged[target + "_true"], merged[target + "_pred"]


def grade(submission: pd.DataFrame, answers: pd.DataFrame) -> float:
    y_true, y_pred = _aligned(submission, answers)
    metric, target = CONFIG["metric"], CONFIG["target"]
    if metric == "accuracy":
        return float((_as_labels(y_true) == _as_labels(y_pred)).mean())
    if metric == "macro-f1":
        return float(f1_score(_as_labels(y_true), _as_labels(y_pred), average="macro"))
    if metric == "roc-auc":
        p = _as_numbers(y_pred, target)
        if ((p < 0) | (p > 1)).any():
            raise InvalidSubmission(f"column {target!r} must hold probabilities between 0 and 1")
        return float(roc_auc_score(y_true.astype(int).values, p))
    t, p = _as_numbers(y_true, target), _as_numbers(y_pred, target)
    if metric == "rmse":
        return float(np.sqrt(np.mean((t - p) ** 2)))
    if metric == "mae":
        return float(np.mean(np.abs(t - p)))
    if metric == "rmsle":
        if (p < 0).any():
            raise InvalidSubmission(f"column {target!r} must not be negative for RMSLE")
        return float(np.sqrt(np.mean((np.log1p(p) - np.log1p(t)) ** 2)))
    raise ValueError(f"unknown metric {metric!r} in metric.py's CONFIG")
