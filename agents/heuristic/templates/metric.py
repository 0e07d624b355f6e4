CONFIG = {}  # written by the Designer (agents/heuristic/designer.ts)
"""Scores a submission against the private answers; InvalidSubmission says what is wrong.

CONFIG: id, target, metric; for a multi-column submission `columns` (mcrmse and mean-column-auc:
the target columns, which the answers hold too; multiclass log-loss: one probability column per
class, the answers holding the label in `target`); for map@k `k` (default 5). mase reads each answer row's `mase_scale` (its series' mean absolute
one-step change over the training past, written by prepare.py).
"""
import numpy as np
import pandas as pd
from sklearn.metrics import cohen_kappa_score, f1_score, log_loss, r2_score, roc_auc_score


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
    if numeric.isna().any() or np.isinf(numeric).any():
        bad = values[numeric.isna() | np.isinf(numeric)].head(3).tolist()
        raise InvalidSubmission(f"column {column!r} must hold finite numbers; got e.g. {bad}")
    return numeric.astype(float).values


def _probabilities(values: pd.Series, column: str) -> np.ndarray:
    p = _as_numbers(values, column)
    if ((p < 0) | (p > 1)).any():
        raise InvalidSubmission(f"column {column!r} must hold probabilities between 0 and 1")
    return p


def _grades(values: pd.Series, column: str) -> np.ndarray:
    g = _as_numbers(values, column)
    if (g != np.round(g)).any():
        raise InvalidSubmission(f"column {column!r} must hold whole grades (integers) for quadratic weighted kappa")
    return g.astype(int)


def _aligned(submission: pd.DataFrame, answers: pd.DataFrame) -> pd.DataFrame:
    """The answers with the submission's columns beside them (suffix _pred), matched by id."""
    id_col = CONFIG["id"]
    columns = CONFIG.get("columns") or [CONFIG["target"]]
    expected = [id_col, *columns]
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
    empty = int(submission[columns].isna().sum().sum())
    if empty:
        raise InvalidSubmission(f"{empty} predictions are empty or NaN; predict every row")
    predicted = submission.rename(columns={c: f"{c}_pred" for c in columns})
    return answers.merge(predicted, on=id_col)


def _average_precision_at_k(truth: str, guesses: str, k: int) -> float:
    relevant = set(str(truth).split())
    ranked = list(dict.fromkeys(str(guesses).split()))[:k]
    hits, total = 0, 0.0
    for rank, guess in enumerate(ranked, start=1):
        if guess in relevant:
            hits += 1
            total += hits / rank
    return total / min(len(relevant), k) if relevant else 0.0


def _multi_column(merged: pd.DataFrame, metric: str) -> float:
    scores = []
    for column in CONFIG["columns"]:
        t = _as_numbers(merged[column], column)
        if metric == "mcrmse":
            scores.append(np.sqrt(np.mean((t - _as_numbers(merged[f"{column}_pred"], column)) ** 2)))
        else:
            scores.append(roc_auc_score(t.astype(int), _probabilities(merged[f"{column}_pred"], column)))
    return float(np.mean(scores))


def grade(submission: pd.DataFrame, answers: pd.DataFrame) -> float:
    merged = _aligned(submission, answers)
    metric, target = CONFIG["metric"], CONFIG["target"]
    if metric in ("mcrmse", "mean-column-auc"):
        return _multi_column(merged, metric)
    if metric == "log-loss" and CONFIG.get("columns"):
        classes = CONFIG["columns"]
        p = np.column_stack([_probabilities(merged[f"{c}_pred"], c) for c in classes])
        if (np.abs(p.sum(axis=1) - 1) > 1e-3).any():
            raise InvalidSubmission(f"each row's probabilities over {classes} must sum to 1")
        truth = _as_labels(merged[target])
        return float(log_loss(truth, np.clip(p, 1e-15, 1), labels=[str(c) for c in classes]))
    y_true, y_pred = merged[target], merged[f"{target}_pred"]
    if metric == "accuracy":
        return float((_as_labels(y_true) == _as_labels(y_pred)).mean())
    if metric in ("macro-f1", "micro-f1"):
        return float(f1_score(_as_labels(y_true), _as_labels(y_pred), average=metric.split("-")[0]))
    if metric == "roc-auc":
        return float(roc_auc_score(y_true.astype(int).values, _probabilities(y_pred, target)))
    if metric == "log-loss":
        p = np.clip(_probabilities(y_pred, target), 1e-15, 1 - 1e-15)
        return float(log_loss(y_true.astype(int).values, p, labels=[0, 1]))
    if metric == "qwk":
        t, p = _grades(y_true, target), _grades(y_pred, target)
        return float(cohen_kappa_score(t, p, weights="quadratic", labels=sorted(set(t) | set(p))))
    if metric.startswith("map@"):
        k = int(CONFIG.get("k", 5))
        return float(np.mean([_average_precision_at_k(t, p, k) for t, p in zip(y_true, y_pred)]))
    t, p = _as_numbers(y_true, target), _as_numbers(y_pred, target)
    if metric == "rmse":
        return float(np.sqrt(np.mean((t - p) ** 2)))
    if metric == "mae":
        return float(np.mean(np.abs(t - p)))
    if metric == "rmsle":
        if (p < 0).any():
            raise InvalidSubmission(f"column {target!r} must not be negative for RMSLE")
        return float(np.sqrt(np.mean((np.log1p(p) - np.log1p(t)) ** 2)))
    if metric == "r2":
        return float(r2_score(t, p))
    if metric == "mape":
        if (t == 0).any():
            raise ValueError("MAPE is undefined when a true value is 0; choose another metric")
        return float(np.mean(np.abs((t - p) / t)))
    if metric == "mase":
        if "mase_scale" not in merged.columns:
            raise ValueError("MASE needs a mase_scale column in answers.csv (prepare.py writes it)")
        return float(np.mean(np.abs(t - p) / merged["mase_scale"].to_numpy(dtype=float)))
    if metric == "smape":
        denominator = (np.abs(t) + np.abs(p)) / 2
        ratio = np.divide(np.abs(t - p), denominator, out=np.zeros_like(t), where=denominator != 0)
        return float(np.mean(ratio))
    raise ValueError(f"unknown metric {metric!r} in metric.py's CONFIG")
