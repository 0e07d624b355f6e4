CONFIG = {}  # written by the ML Developer (agents/heuristic/synth/developer.ts)
"""Synthetic raw data: features with the seed task's schema and a target from a hidden rule plus
seeded noise. Writes $ANVIL_RAW_DIR/data.csv (default /workspace/raw): the features, the target,
and `_oracle`, the rule's noise-free answer (prepare.py keeps it private)."""
import os
from pathlib import Path

import numpy as np
import pandas as pd

C = CONFIG
RULE = C["rule"]
rng = np.random.default_rng(C["seed"])
n = C["trainRows"] + C["testRows"]
SYLLABLES = ["ka", "lo", "mi", "ne", "ru", "ta", "vo", "zi", "pe", "sa", "do", "fu", "gri", "ble", "sto", "an", "el", "or"]
VOCABULARY = sorted({"".join(rng.choice(SYLLABLES, size=int(rng.integers(2, 4)))) for _ in range(800)} - set(RULE["keywords"]))


def standardized(x):
    spread = x.std()
    return (x - x.mean()) / spread if spread > 0 else np.zeros_like(x)


def with_missing(values, share):
    """Blanks a seeded share of the values, as the seed's column had (the rule saw them all)."""
    blank = rng.random(n) < min(share, 0.3)
    return values.mask(blank) if share > 0 else values


columns, signals = {}, {}
for f in C["features"]:
    kind, name = f["kind"], f["name"]
    if kind in ("numeric", "integer"):
        values = np.clip(f["mean"] + f["std"] * rng.normal(size=n), f["min"], f["max"])
        values = np.round(values) if kind == "integer" else np.round(values, 4)
        signals[name] = standardized(values)
        series = pd.Series(values.astype("int64"), dtype="Int64") if kind == "integer" else pd.Series(values)
        columns[name] = with_missing(series, f["missing"])
    elif kind in ("categorical", "boolean"):
        levels = f["levels"]
        idx = rng.integers(len(levels), size=n)
        signals[name] = standardized(rng.normal(size=len(levels))[idx])
        columns[name] = with_missing(pd.Series(np.array(levels, dtype=object)[idx]), f["missing"] if kind == "categorical" else 0)
    elif kind == "text":
        has = rng.random((n, len(RULE["keywords"]))) < 0.3
        texts = []
        for i in range(n):
            words = list(rng.choice(VOCABULARY, size=int(rng.integers(max(4, f["words"] // 2), f["words"] * 3 // 2 + 2))))
            for k, word in enumerate(RULE["keywords"]):
                if has[i, k]:
                    words.insert(int(rng.integers(len(words) + 1)), word)
            texts.append(" ".join(words))
        signals[name] = standardized(has.sum(axis=1).astype(float))
        columns[name] = pd.Series(texts)
    elif kind == "datetime":
        days = rng.integers(0, 730, size=n)
        signals[name] = standardized(np.sin(days / 58.0))
        columns[name] = pd.Series((np.datetime64("2021-01-01") + days).astype(str))

clean = np.zeros(n)
for term in RULE["terms"]:
    clean += term["weight"] * signals[term["feature"]]
if RULE.get("interaction"):
    a, b, w = RULE["interaction"]["a"], RULE["interaction"]["b"], RULE["interaction"]["weight"]
    clean += w * signals[a] * signals[b]
if RULE.get("wave"):
    clean += RULE["wave"]["weight"] * np.sin(2.0 * signals[RULE["wave"]["feature"]])
clean = standardized(clean)
noisy = clean + C["noise"] * rng.normal(size=n)

task = C["taskType"]
if task == "binary-classification" and C["metric"] == "roc-auc":
    cut = np.quantile(noisy, 1 - C["shares"][1])
    target = (noisy > cut).astype(int)
    oracle = np.round(1 / (1 + np.exp(-3 * (clean - cut))), 6)
elif task.endswith("classification"):
    classes = np.array(C["classes"], dtype=object)
    cuts = np.quantile(noisy, np.cumsum(C["shares"])[:-1])
    target, oracle = classes[np.searchsorted(cuts, noisy)], classes[np.searchsorted(cuts, clean)]
else:
    s = C["targetStats"]
    scale = lambda z: np.round(np.clip(s["mean"] + s["std"] * (z - noisy.mean()) / noisy.std(), s["min"], s["max"]), 4)
    target, oracle = scale(noisy), scale(clean)

frame = pd.DataFrame(columns)
frame[C["target"]] = target
frame["_oracle"] = oracle
out = Path(os.environ.get("ANVIL_RAW_DIR", "/workspace/raw"))
out.mkdir(parents=True, exist_ok=True)
frame.to_csv(out / "data.csv", index=False)
