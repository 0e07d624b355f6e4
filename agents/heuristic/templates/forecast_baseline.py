CONFIG = {}  # written by the Designer (agents/heuristic/forecast-design.ts)
"""Baseline forecast: a direct multi-step model on lag and rolling features of each series' past.

For each series, a training example pairs a time t with an earlier point e = t - s (s = 1..horizon
steps ahead) and sees only values up to e: the last value, the one before, rolling means, the value
one season before t when it lies at or before e. The model learns y[t] - y[e]; at test time e is the
series' last training value, so nothing after the forecast origin is read.
"""
import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingRegressor

ID, TARGET, TIME, KEYS, HORIZON = CONFIG["id"], CONFIG["target"], CONFIG["time"], CONFIG["series"], CONFIG["horizon"]
WINDOWS = (3, 12)
MAX_EXAMPLES = 20000


def season_of(times: pd.Series) -> int:
    """Steps per season from the typical spacing: hours → a day, days → a year, weeks → a year, months → a year."""
    days = times.sort_values().diff().dt.total_seconds().median() / 86400
    if days < 0.5:
        return 24
    if days < 3:
        return 365 if len(times) > 2 * 365 else 7
    if days < 10:
        return 52
    if days < 45:
        return 12
    return 4 if days < 120 else 1


def features(values: np.ndarray, rolling: dict, ends: np.ndarray, step: int, times: pd.Series, season: int) -> np.ndarray:
    """What is known at indices `ends` about the values `step` steps later (at `times`)."""
    last = values[ends]
    before = values[np.maximum(ends - 1, 0)]
    back = ends + step - season
    seasonal = np.where((season > 1) & (back >= 0) & (step <= season), values[np.clip(back, 0, len(values) - 1)] - last, 0.0)
    columns = [last, before - last, np.full(len(ends), step), times.dt.month, times.dt.dayofyear, seasonal]
    columns += [rolling[w][ends] - last for w in WINDOWS]
    return np.column_stack([np.asarray(c, dtype=float) for c in columns])


train = pd.read_csv("/data/train.csv", low_memory=False)
test = pd.read_csv("/data/test.csv", low_memory=False)
for frame in (train, test):
    frame["_when"] = pd.to_datetime(frame[TIME], errors="coerce")
season = season_of(pd.Series(train["_when"].unique()))
BY = KEYS[0] if len(KEYS) == 1 else KEYS
group = lambda frame: frame.groupby(BY, sort=True, dropna=False) if KEYS else [((), frame)]

x, y, histories = [], [], {}
for key, past in group(train):
    past = past.sort_values("_when")
    values = past[TARGET].to_numpy(dtype=float)
    rolling = {w: past[TARGET].rolling(w, min_periods=1).mean().to_numpy() for w in WINDOWS}
    histories[key] = (values, rolling)
    whens = past["_when"].reset_index(drop=True)
    for s in range(1, min(HORIZON, len(values) - 1) + 1):
        ends = np.arange(0, len(values) - s)
        x.append(features(values, rolling, ends, s, whens.iloc[ends + s], season))
        y.append(values[ends + s] - values[ends])
x, y = np.vstack(x), np.concatenate(y)
if len(y) > MAX_EXAMPLES:  # long series: a seeded sample of the (origin, step) pairs is enough
    keep = np.random.RandomState(0).choice(len(y), MAX_EXAMPLES, replace=False)
    x, y = x[keep], y[keep]
model = HistGradientBoostingRegressor(random_state=0).fit(x, y)

ids, rows, lasts = [], [], []
for key, future in group(test):
    values, rolling = histories[key]
    future = future.sort_values("_when").reset_index(drop=True)
    for s in range(1, len(future) + 1):
        rows.append(features(values, rolling, np.array([len(values) - 1]), s, future["_when"].iloc[[s - 1]], season))
        ids.append(future[ID].iloc[s - 1])
        lasts.append(values[-1])

prediction = np.array(lasts) + model.predict(np.vstack(rows))
pd.DataFrame({ID: ids, TARGET: prediction}).to_csv("/workspace/submission.csv", index=False)
