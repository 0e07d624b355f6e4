CONFIG = {}  # written by the Designer (agents/heuristic/designer.ts)
"""Splits raw/data.csv into public train/test files and private answers, deterministically."""
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split


def as_label(values: pd.Series) -> pd.Series:
    """Labels as lower-case text, with 1.0 and 1 (and True and true) read as the same label."""
    numeric = pd.to_numeric(values, errors="coerce")
    if numeric.notna().all() and (numeric == numeric.round()).all():
        return numeric.astype("int64").astype(str)
    return values.astype(str).str.lower()


def trivial_prediction(train: pd.DataFrame):
    """What the sample submission predicts for every row: the simplest reasonable guess."""
    y = train[CONFIG["target"]]
    metric = CONFIG["metric"]
    if metric == "roc-auc":
        return float(y.mean())
    if metric in ("accuracy", "macro-f1"):
        return y.value_counts().sort_index().idxmax()
    if metric == "mae":
        return float(y.median())
    if metric == "rmsle":
        return float(np.expm1(np.log1p(y.clip(lower=0)).mean()))
    return float(y.mean())


def prepare(raw: Path, public: Path, private: Path) -> None:
    c = CONFIG
    target, id_col = c["target"], c["id"]
    df = pd.read_csv(raw / "data.csv", low_memory=False)
    df = df.drop(columns=[col for col in c["drop"] if col in df.columns])
    df = df.dropna(subset=[target]).reset_index(drop=True)
    if c.get("classes"):
        df = df[as_label(df[target]).isin([str(v).lower() for v in c["classes"]])].reset_index(drop=True)
    if c["dedupe"]:
        df = df.drop_duplicates().reset_index(drop=True)
    if c.get("positive") is not None:
        df[target] = (as_label(df[target]) == str(c["positive"]).lower()).astype(int)
    rng = np.random.RandomState(c["seed"])
    # Fresh ids from a seeded permutation: they carry neither row order nor label.
    df.insert(0, id_col, rng.permutation(len(df)) + 100000)

    n_test = int(round(len(df) * c["testFraction"]))
    if c.get("time"):
        order = pd.to_datetime(df[c["time"]], errors="coerce").argsort(kind="mergesort")
        df = df.iloc[order.values]
        train, test = df.iloc[:-n_test], df.iloc[-n_test:]
    else:
        counts = df[target].value_counts()
        stratify = df[target] if c["stratify"] and counts.min() >= 2 else None
        train, test = train_test_split(df, test_size=n_test, random_state=c["seed"], stratify=stratify)

    public.mkdir(parents=True, exist_ok=True)
    private.mkdir(parents=True, exist_ok=True)
    train.to_csv(public / "train.csv", index=False)
    test.drop(columns=[target]).to_csv(public / "test.csv", index=False)
    test[[id_col, target]].to_csv(private / "answers.csv", index=False)
    sample = test[[id_col]].copy()
    sample[target] = trivial_prediction(train)
    sample.to_csv(public / "sample_submission.csv", index=False)
