"""Macro-averaged F1 over the six origin airports: every hub counts the same."""
import pandas as pd
from sklearn.metrics import f1_score

ID, TARGET = "id", "origin"


class InvalidSubmission(Exception):
    """The submission cannot be scored; the message says why."""


def _predictions(submission: pd.DataFrame, answers: pd.DataFrame) -> pd.Series:
    """The submission's airports in the order of `answers`, after checking its shape."""
    if sorted(submission.columns) != sorted([ID, TARGET]):
        raise InvalidSubmission(f"columns must be {ID!r} and {TARGET!r}, got {list(submission.columns)}")
    if submission[ID].isna().any() or submission[TARGET].isna().any():
        raise InvalidSubmission("every row needs an id and an airport")
    ids = submission[ID].astype(str)
    if ids.duplicated().any():
        raise InvalidSubmission(f"duplicated ids, e.g. {ids[ids.duplicated()].iloc[0]}")
    expected = answers[ID].astype(str)
    missing, extra = set(expected) - set(ids), set(ids) - set(expected)
    if missing or extra:
        raise InvalidSubmission(f"{len(missing)} test ids missing and {len(extra)} unknown ids")
    return submission[TARGET].astype(str).set_axis(ids).loc[expected]


def grade(submission: pd.DataFrame, answers: pd.DataFrame) -> float:
    truth = answers[TARGET].astype(str)
    return float(f1_score(truth.to_numpy(), _predictions(submission, answers).to_numpy(), labels=sorted(truth.unique()), average="macro"))
