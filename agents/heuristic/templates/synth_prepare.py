CONFIG = {}  # written by the ML Developer (agents/heuristic/synth/developer.ts)
"""Splits the generated raw/data.csv into exactly trainRows training and testRows test rows; the
rule's noise-free answers go to private/oracle.csv, the best score a solver can hope for."""
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split


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
    oracle = df.pop("_oracle")
    rng = np.random.RandomState(c["seed"])
    # Fresh ids from a seeded permutation: they carry neither row order nor label.
    df.insert(0, id_col, rng.permutation(len(df)) + 100000)
    df["_oracle"] = oracle
    stratify = df[target] if c["taskType"].endswith("classification") and df[target].value_counts().min() >= 2 else None
    train, test = train_test_split(df, train_size=c["trainRows"], test_size=c["testRows"], random_state=c["seed"], stratify=stratify)

    public.mkdir(parents=True, exist_ok=True)
    private.mkdir(parents=True, exist_ok=True)
    train.drop(columns=["_oracle"]).to_csv(public / "train.csv", index=False)
    test.drop(columns=[target, "_oracle"]).to_csv(public / "test.csv", index=False)
    test[[id_col, target]].to_csv(private / "answers.csv", index=False)
    test[[id_col, "_oracle"]].rename(columns={"_oracle": target}).to_csv(private / "oracle.csv", index=False)
    sample = test[[id_col]].copy()
    sample[target] = trivial_prediction(train)
    sample.to_csv(public / "sample_submission.csv", index=False)
