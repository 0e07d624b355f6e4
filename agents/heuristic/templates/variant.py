CONFIG = {}  # written by the heuristic policy (agents/heuristic/policy.ts) from a domain/policy-space.ts variant
"""A reference solution drawn from the policy space: one model family, its hyper-parameters, a share of the
feature columns and of the training rows. Reads /data, writes /workspace/submission.csv."""
import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import (
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.feature_selection import mutual_info_classif, mutual_info_regression
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import cross_val_score
from sklearn.naive_bayes import GaussianNB
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OrdinalEncoder, StandardScaler
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

ID, TARGET, TASK, METRIC = CONFIG["id"], CONFIG["target"], CONFIG["taskType"], CONFIG["metric"]
FAMILY, P, SEED = CONFIG["family"], CONFIG["params"], CONFIG["seed"]
rng = np.random.default_rng(SEED)
classify = TASK.endswith("classification")

train = pd.read_csv("/data/train.csv", low_memory=False)
test = pd.read_csv("/data/test.csv", low_memory=False)
for col in CONFIG["datetime"]:
    for frame in (train, test):
        when = pd.to_datetime(frame[col], errors="coerce")
        frame[col + "_year"], frame[col + "_dayofyear"] = when.dt.year, when.dt.dayofyear
numeric = CONFIG["numeric"] + [c + p for c in CONFIG["datetime"] for p in ("_year", "_dayofyear")]
categorical = CONFIG["categorical"]
for frame in (train, test):
    frame[categorical] = frame[categorical].astype(str)

train = train[train[TARGET].notna()]
if CONFIG["trainShare"] < 1:
    rows = max(20, int(len(train) * CONFIG["trainShare"]))
    train = train.sample(n=min(rows, len(train)), random_state=SEED)

columns = numeric + categorical
if CONFIG["featureShare"] < 1 and len(columns) > 1:
    keep = max(1, int(round(len(columns) * CONFIG["featureShare"])))
    chosen = set(rng.choice(columns, size=keep, replace=False))
    numeric, categorical = [c for c in numeric if c in chosen], [c for c in categorical if c in chosen]


def encoder(numeric, categorical, scale):
    parts = []
    if numeric:
        steps = [SimpleImputer(strategy="median")] + ([StandardScaler()] if scale else [])
        parts.append(("numeric", make_pipeline(*steps), numeric))
    if categorical:
        codes = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1)
        parts.append(("categorical", make_pipeline(codes, *([StandardScaler()] if scale else [])), categorical))
    return ColumnTransformer(parts, sparse_threshold=0)


y = train[TARGET]
if METRIC == "rmsle":
    y = np.log1p(y.clip(lower=0))

if FAMILY == "single-feature" and numeric + categorical:
    # the one column that tells most about the target, by mutual information on its codes
    encoded = encoder(numeric, categorical, False).fit_transform(train)
    score = (mutual_info_classif if classify else mutual_info_regression)(encoded, y, random_state=SEED)
    best = (numeric + categorical)[int(np.argmax(score))]
    numeric, categorical = [c for c in numeric if c == best], [c for c in categorical if c == best]

family = FAMILY if numeric + categorical else "constant"
if family == "naive-bayes" and not classify:
    family = "linear"
depth = int(P.get("depth", 0)) or None
if family == "constant":
    model = None
elif family in ("single-feature", "tree"):
    model = (DecisionTreeClassifier if classify else DecisionTreeRegressor)(max_depth=depth, random_state=SEED)
elif family == "linear":
    c = 10.0 ** P.get("logC", 0)
    model = LogisticRegression(C=c, max_iter=2000) if classify else Ridge(alpha=1.0 / c)
elif family == "knn":
    k = max(1, min(int(P["k"]), len(train) - 1))
    model = (KNeighborsClassifier if classify else KNeighborsRegressor)(n_neighbors=k)
elif family == "naive-bayes":
    model = GaussianNB()
elif family == "forest":
    Forest = RandomForestClassifier if classify else RandomForestRegressor
    model = Forest(n_estimators=int(P["trees"]), max_depth=depth, random_state=SEED, n_jobs=1)
elif family == "boosting":
    Boost = HistGradientBoostingClassifier if classify else HistGradientBoostingRegressor
    model = Boost(max_iter=int(P["iterations"]), learning_rate=P["learningRate"], random_state=SEED)
else:  # selected: the candidate that cross-validates best on the training rows
    candidates = {
        "linear": (LogisticRegression(max_iter=2000) if classify else Ridge(alpha=1.0), True),
        "tree": ((DecisionTreeClassifier if classify else DecisionTreeRegressor)(max_depth=6, random_state=SEED), False),
        "forest": ((RandomForestClassifier if classify else RandomForestRegressor)(200, random_state=SEED, n_jobs=1), False),
        "boosting": ((HistGradientBoostingClassifier if classify else HistGradientBoostingRegressor)(random_state=SEED), False),
    }
    scoring = "roc_auc" if METRIC == "roc-auc" else None  # else the estimator's own: accuracy or R²
    fits = {}
    for name, (candidate, scale) in candidates.items():
        try:
            pipe = make_pipeline(encoder(numeric, categorical, scale), candidate)
            folds = min(int(P.get("folds", 3)), max(2, len(train) // 10))
            fits[name] = (cross_val_score(pipe, train, y, cv=folds, scoring=scoring).mean(), candidate, scale)
        except ValueError:
            continue  # e.g. a class too rare for the folds
    best = max(fits, key=lambda k: fits[k][0]) if fits else "linear"
    model, P = candidates[best][0], {**P, "scale": int(candidates[best][1]), "chosen": best}

if model is None:
    if classify:
        prediction = np.full(len(test), 0.5) if METRIC == "roc-auc" else np.repeat(y.mode().iloc[0], len(test))
    else:
        prediction = np.full(len(test), y.mean())
else:
    scale = family in ("linear", "knn", "selected") and P.get("scale", 1) != 0
    pipeline = make_pipeline(encoder(numeric, categorical, scale), model)
    pipeline.fit(train, y)
    prediction = pipeline.predict_proba(test)[:, 1] if METRIC == "roc-auc" else pipeline.predict(test)
if METRIC == "rmsle":
    prediction = np.expm1(prediction).clip(min=0)

pd.DataFrame({ID: test[ID], TARGET: prediction}).to_csv("/workspace/submission.csv", index=False)
print("variant", FAMILY, P, "features", len(numeric) + len(categorical), "rows", len(train))
