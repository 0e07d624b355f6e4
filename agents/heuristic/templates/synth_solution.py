CONFIG = {}  # written by the ML Developer (agents/heuristic/synth/developer.ts)
"""A reference solution for a micro task: reads /data, fits CONFIG["model"] (forest, linear or
nearest neighbours) on the features by kind, writes /workspace/submission.csv."""
import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

ID, TARGET, TASK, METRIC, MODEL = CONFIG["id"], CONFIG["target"], CONFIG["taskType"], CONFIG["metric"], CONFIG["model"]

train = pd.read_csv("/data/train.csv", low_memory=False)
test = pd.read_csv("/data/test.csv", low_memory=False)
numeric, categorical, text = CONFIG["numeric"], CONFIG["categorical"], CONFIG["text"]
for col in CONFIG["datetime"]:  # dates as day numbers
    for frame in (train, test):
        frame[col] = pd.to_datetime(frame[col], errors="coerce").map(lambda d: d.toordinal() if pd.notna(d) else np.nan)
numeric = numeric + CONFIG["datetime"]
for frame in (train, test):
    frame[categorical] = frame[categorical].astype(str)
    frame[text] = frame[text].fillna("").astype(str)

parts = []
if numeric:
    parts.append(("numeric", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), numeric))
if categorical:
    parts.append(("categorical", OneHotEncoder(handle_unknown="ignore"), categorical))
for col in text:
    parts.append(("text_" + col, TfidfVectorizer(max_features=200 if MODEL == "forest" else 5000), col))
classify = TASK.endswith("classification")
models = {
    "forest": lambda: RandomForestClassifier(n_estimators=300, min_samples_leaf=2, random_state=0) if classify else RandomForestRegressor(n_estimators=300, min_samples_leaf=2, random_state=0),
    "linear": lambda: LogisticRegression(max_iter=2000) if classify else Ridge(alpha=1.0),
    "nearest": lambda: KNeighborsClassifier(n_neighbors=7) if classify else KNeighborsRegressor(n_neighbors=7),
}
pipeline = make_pipeline(ColumnTransformer(parts, sparse_threshold=0 if MODEL == "forest" else 0.3), models[MODEL]())

y = train[TARGET]
if METRIC == "rmsle":
    pipeline.fit(train, np.log1p(y.clip(lower=0)))
    prediction = np.expm1(pipeline.predict(test)).clip(min=0)
else:
    pipeline.fit(train, y)
    prediction = pipeline.predict_proba(test)[:, 1] if METRIC == "roc-auc" else pipeline.predict(test)

pd.DataFrame({ID: test[ID], TARGET: prediction}).to_csv("/workspace/submission.csv", index=False)
