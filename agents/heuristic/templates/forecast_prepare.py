CONFIG = {}  # written by the Designer (agents/heuristic/forecast-design.ts)
"""Splits raw/data.csv into a forecasting task: every series' past is train, its next `horizon` steps test.

One forecast origin for all series (the last time step before the final `horizon` distinct time
steps of the table), so no test row of any series precedes a train row of the same series, and
test.csv holds only what is known at the origin: ids, series keys and the time to forecast.
"""
from pathlib import Path

import numpy as np
import pandas as pd


def naive_scale(train: pd.DataFrame) -> pd.Series:
    """MASE's scale: each series' mean absolute one-step change over its training past."""
    target, keys = CONFIG["target"], CONFIG["series"]
    if not keys:
        return train[target].diff().abs().mean()
    steps = train.groupby(keys, dropna=False)[target].diff().abs()  # train is sorted by series, then time
    return steps.groupby([train[k] for k in keys], dropna=False).mean()


def prepare(raw: Path, public: Path, private: Path) -> None:
    c = CONFIG
    target, id_col, time, keys = c["target"], c["id"], c["time"], c["series"]
    df = pd.read_csv(raw / "data.csv", low_memory=False)
    df = df[[*keys, time, target]]
    df["_when"] = pd.to_datetime(df[time], errors="coerce")
    df = df.dropna(subset=[target, "_when"])
    df = df.drop_duplicates(subset=[*keys, "_when"]).sort_values([*keys, "_when"], kind="mergesort")
    df = df.reset_index(drop=True)
    rng = np.random.RandomState(c["seed"])
    # Fresh ids from a seeded permutation: they carry neither time nor value.
    df.insert(0, id_col, rng.permutation(len(df)) + 100000)

    steps = np.sort(df["_when"].unique())
    origin = steps[-c["horizon"] - 1]
    train, test = df[df["_when"] <= origin], df[df["_when"] > origin]
    # a series with no past to learn from cannot be forecast
    if keys:
        known = train[keys].drop_duplicates()
        test = test.merge(known, on=keys, how="inner")

    public.mkdir(parents=True, exist_ok=True)
    private.mkdir(parents=True, exist_ok=True)
    train.drop(columns="_when").to_csv(public / "train.csv", index=False)
    test.drop(columns=["_when", target]).to_csv(public / "test.csv", index=False)
    answers = test[[id_col, target]].copy()
    if c["metric"] == "mase":
        scale = naive_scale(train)
        if keys:
            per_row = test[keys].merge(scale.rename("mase_scale").reset_index(), on=keys, how="left")["mase_scale"]
            answers["mase_scale"] = per_row.to_numpy()
        else:
            answers["mase_scale"] = scale
        answers["mase_scale"] = answers["mase_scale"].fillna(1.0).replace(0.0, 1.0)
    answers.to_csv(private / "answers.csv", index=False)
    # the trivial guess, as for any numeric target: the training mean
    sample = test[[id_col]].copy()
    sample[target] = float(train[target].mean())
    sample.to_csv(public / "sample_submission.csv", index=False)
