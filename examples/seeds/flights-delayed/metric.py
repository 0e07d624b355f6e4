"""Area under the ROC curve of the predicted probability that a flight arrives more than 15 minutes late."""
import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

ID, TARGET = "id", "delayed"


class InvalidSubmission(Exception):
    """The submission cannot be scored; the message says why."""


def _predictions(submission: pd.DataFrame, answers: pd.DataFrame) -> np.ndarray:
    """The submission's probabilities in the order of `answers`, after checking its shape."""
    if sorted(submission.columns) != sorted([ID, TARGET]):
        raise InvalidSubmission(f"columns must be {ID!r} and {TARGET!r}, got {list(submission.columns)}")
    if submission[ID].isna().any():
        raise InvalidSubmission("every row needs an id")
    ids = submission[ID].astype(str)
    if ids.duplicated().any():
        raise InvalidSubmission(f"duplicated ids, e.g. {ids[ids.duplicated()].iloc[0]}")
    expected = answers[ID].astype(str)
    missing, extra = set(expected) - set(ids), set(ids) - set(expected)
    if missing or extra:
        raise InvalidSubmission(f"{len(missing)} test ids missing and {len(extra)} unknown ids")
    values = pd.to_numeric(submission[TARGET], errors="coerce")
    if values.isna().any() or not values.between(0, 1).all():
        raise InvalidSubmission(f"{TARGET} must be a probability between 0 and 1 in every row")
    return values.set_axis(ids).loc[expected].to_numpy(dtype=float)


def grade(submission: pd.DataFrame, answers: pd.DataFrame) -> float:
    return float(roc_auc_score(answers[TARGET].to_numpy(dtype=int), _predictions(submission, answers)))
