"""Smoke training run: predict a penguin's species from its measurements (vega-datasets penguins).

Reads /data/penguins.json, scores a RandomForest with stratified 5-fold cross-validation and
prints one JSON line: {"metric": "accuracy", "score": ..., ...}.
"""
import json

import pandas as pd
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import StratifiedKFold, cross_val_score

df = pd.read_json("/data/penguins.json")
numeric = ["Beak Length (mm)", "Beak Depth (mm)", "Flipper Length (mm)", "Body Mass (g)"]
df = df.dropna(subset=numeric + ["Species"])
X = pd.get_dummies(df[numeric + ["Island", "Sex"]], columns=["Island", "Sex"], dummy_na=True)
y = df["Species"]

model = RandomForestClassifier(n_estimators=200, random_state=0, n_jobs=1)
folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
scores = cross_val_score(model, X, y, cv=folds, scoring="accuracy")

print(json.dumps({
    "metric": "accuracy",
    "score": round(float(scores.mean()), 4),
    "std": round(float(scores.std()), 4),
    "folds": len(scores),
    "rows": int(len(df)),
    "classes": sorted(y.unique().tolist()),
}))
