CONFIG = {}  # written by the Designer (agents/heuristic/designer.ts)
"""Baseline: reads /data, fits a standard scikit-learn model, writes /workspace/submission.csv."""
import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OrdinalEncoder

ID, TARGET, TASK, METRIC = CONFIG["id"], CONFIG["target"], CONFIG["taskType"], CONFIG["metric"]


def with_date_parts(df: pd.DataFrame) -> pd.DataFrame:
    for col in CONFIG["datetime"]:
        when = pd.to_datetime(df[col], errors="coerce")
        df[col + "_year"], df[col + "_month"], df[col + "_dayofyear"] = when.dt.year, when.dt.month, when.dt.dayofyear
    return df


train = with_date_parts(pd.read_csv("/data/train.csv", low_memory=False))
test = with_date_parts(pd.read_csv("/data/test.csv", low_memory=False))
numeric = CONFIG["numeric"] + [c + p for c in CONFIG["datetime"] for p in ("_year", "_month", "_dayofyear")]
categorical, text = CONFIG["categorical"], CONFIG["text"]
for frame in (train, test):
    frame[categorical] = frame[categorical].astype(str)
    frame[text] = frame[text].fillna("").astype(str)

parts = []
if numeric:
    parts.append(("numeric", SimpleImputer(strategy="median"), numeric))
if categorical:
    parts.append(("categorical", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1), categorical))
for col in text:
    parts.append(("text_" + col, TfidfVectorizer(max_features=20000, ngram_range=(1, 2), min_df=2, sublinear_tf=True), col))
classify = TASK.endswith("classification")
if text:  # sparse word features: a linear model
    model = LogisticRegression(max_iter=2000, C=4.0) if classify else Ridge(alpha=1.0)
    features = ColumnTransformer(parts)
else:  # tabular: gradient-boosted trees on dense features
    model = HistGradientBoostingClassifier(random_state=0) if classify else HistGradientBoostingRegressor(random_state=0)
    features = ColumnTransformer(parts, sparse_threshold=0)
pipeline = make_pipeline(features, model)

y = train[TARGET]
if METRIC == "rmsle":
    pipeline.fit(train, np.log1p(y.clip(lower=0)))
    prediction = np.expm1(pipeline.predict(test)).clip(min=0)
else:
    pipeline.fit(train, y)
    prediction = pipeline.predict_proba(test)[:, 1] if METRIC == "roc-auc" else pipeline.predict(test)

pd.DataFrame({ID: test[ID], TARGET: prediction}).to_csv("/workspace/submission.csv", index=False)
