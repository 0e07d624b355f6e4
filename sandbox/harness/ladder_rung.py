CONFIG = {}  # written by activities/ladder.ts from the task's manifest and a row of domain/ladder.ts
"""One rung of the reference ladder: reads /data, fits the model its CONFIG names, writes /workspace/submission.csv.

Deterministic (seed 0 everywhere); the features are read off train.csv and test.csv themselves: numeric
columns, and text columns with few distinct values as categories. Other columns are not used, except by
the text rungs (tfidf-*), which read only the free-text columns (many distinct values, 20+ characters).
An image task's file column (its values name image files under /data) becomes grey pixel columns.
"""
import os
import warnings

import numpy as np
import pandas as pd
from sklearn.ensemble import (
    ExtraTreesClassifier,
    ExtraTreesRegressor,
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.feature_selection import mutual_info_classif, mutual_info_regression
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.naive_bayes import GaussianNB, MultinomialNB
from sklearn.svm import LinearSVC, LinearSVR
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

warnings.filterwarnings("ignore")
RUNG, P = CONFIG["rung"], CONFIG["rung"]["params"]
ID, TARGET, METRIC = CONFIG["id"], CONFIG["target"], CONFIG["metric"]
CLASSIFY = CONFIG["taskType"].endswith("classification")
MAX_CATEGORIES = 30
CHAR_PREFIX = 500
PIXELS = 8  # an image rung sees each image as PIXELS x PIXELS grey levels
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")


def with_date_parts(frame, reference):
    """Text columns that read as dates (as in `reference`, train.csv) become year, month and day-of-year numbers."""
    for col in [c for c in reference.columns if reference[c].dtype == object and c not in (ID, TARGET)]:
        sample = reference[col].dropna().head(200)
        if len(sample) == 0 or pd.to_datetime(sample, errors="coerce").isna().mean() > 0.1:
            continue
        when = pd.to_datetime(frame[col], errors="coerce")
        frame[col + "_year"], frame[col + "_month"], frame[col + "_dayofyear"] = (
            when.dt.year, when.dt.month, when.dt.dayofyear
        )
    return frame


def image_column(frame):
    """The column whose values are paths of image files under /data, if any."""
    for col in frame.columns:
        values = frame[col].dropna().astype(str).head(20)
        if col not in (ID, TARGET) and len(values) and all(
            v.lower().endswith(IMAGE_SUFFIXES) and os.path.isfile(os.path.join("/data", v)) for v in values
        ):
            return col
    return None


def with_pixels(frame, col):
    """Each image named in `col` as PIXELS x PIXELS grey levels in [0, 1], one numeric column per pixel."""
    from PIL import Image

    rows = []
    for path in frame[col].astype(str):
        with Image.open(os.path.join("/data", path)) as image:
            rows.append(np.asarray(image.convert("L").resize((PIXELS, PIXELS)), dtype=np.float32).ravel() / 255.0)
    pixels = pd.DataFrame(np.stack(rows), index=frame.index, columns=[f"px{i}" for i in range(PIXELS * PIXELS)])
    return pd.concat([frame.drop(columns=[col]), pixels], axis=1)


train = pd.read_csv("/data/train.csv", low_memory=False).dropna(subset=[TARGET]).reset_index(drop=True)
test = pd.read_csv("/data/test.csv", low_memory=False)
train, test = with_date_parts(train, train), with_date_parts(test, train)
IMAGES = image_column(test)
if IMAGES is not None and IMAGES in train.columns:
    train, test = with_pixels(train, IMAGES), with_pixels(test, IMAGES)
sample_columns = list(pd.read_csv("/data/sample_submission.csv", nrows=1).columns)
out_id, out_target = sample_columns if len(sample_columns) == 2 else (ID, TARGET)


def feature_columns():
    numeric, categorical = [], []
    for col in test.columns:
        if col in (ID, TARGET) or col not in train.columns:
            continue
        if pd.api.types.is_numeric_dtype(train[col]) and pd.api.types.is_numeric_dtype(test[col]):
            numeric.append(col)
        elif train[col].nunique() <= MAX_CATEGORIES:
            categorical.append(col)
    return numeric, categorical


def encode(frame, numeric, categorical):
    """Numbers with missing values as the train median, categories one-hot with train's categories."""
    parts = [frame[numeric].astype(float).fillna(train[numeric].astype(float).median()).fillna(0)] if numeric else []
    for col in categorical:
        levels = sorted(train[col].dropna().astype(str).unique())
        values = frame[col].astype(str)
        parts.append(pd.DataFrame({f"{col}={v}": (values == v).astype(float) for v in levels}, index=frame.index))
    return pd.concat(parts, axis=1) if parts else pd.DataFrame({"bias": np.zeros(len(frame))}, index=frame.index)


def ranked(numeric, categorical, y):
    """Columns from most to least informative about the target (mutual information on a seeded sample)."""
    rows = train.sample(n=min(len(train), 3000), random_state=0).index
    columns = numeric + categorical
    if not columns:
        return []
    frame = pd.DataFrame(
        {c: train.loc[rows, c].astype(float).fillna(train[c].astype(float).median()) for c in numeric}
        | {c: train.loc[rows, c].astype(str).astype("category").cat.codes for c in categorical}
    ).fillna(0)
    discrete = [c in categorical for c in columns]
    score = mutual_info_classif if CLASSIFY else mutual_info_regression
    info = score(frame[columns].values, y.loc[rows].values, discrete_features=discrete, random_state=0)
    return [columns[i] for i in np.argsort(-info, kind="stable")]


def chosen_features(y):
    numeric, categorical = feature_columns()
    if RUNG["features"] == "all":
        return numeric, categorical
    order = ranked(numeric, categorical, y)
    keep = order[: RUNG["top"]] if RUNG["features"] == "top" else order[len(order) // 2 :]
    return [c for c in numeric if c in keep], [c for c in categorical if c in keep]


def learning_rows():
    n = len(train)
    take = min(n, RUNG["maxRows"], max(20, int(round(n * RUNG["trainFraction"]))))
    return train.sample(n=take, random_state=0).index if take < n else train.index


def single(kind, params, seed=0):
    if kind == "linear":
        if CLASSIFY:
            return LogisticRegression(C=1.0 / params["alpha"], max_iter=int(params.get("iterations", 2000)))
        return Ridge(alpha=params["alpha"])
    if kind == "naive-bayes":
        return GaussianNB()
    if kind == "knn":
        return (KNeighborsClassifier if CLASSIFY else KNeighborsRegressor)(n_neighbors=int(params["k"]))
    if kind == "tree":
        depth = int(params["depth"]) or None
        return (DecisionTreeClassifier if CLASSIFY else DecisionTreeRegressor)(max_depth=depth, random_state=seed)
    if kind in ("forest", "extra-trees"):
        if kind == "forest":
            forest = RandomForestClassifier if CLASSIFY else RandomForestRegressor
        else:
            forest = ExtraTreesClassifier if CLASSIFY else ExtraTreesRegressor
        depth = int(params["depth"]) or None
        return forest(n_estimators=int(params["trees"]), max_depth=depth, random_state=seed, n_jobs=1)
    if kind == "boosting":
        boost = HistGradientBoostingClassifier if CLASSIFY else HistGradientBoostingRegressor
        return boost(
            max_iter=int(params["iterations"]),
            learning_rate=params["rate"],
            min_samples_leaf=int(params.get("leaf", 20)),
            early_stopping=False,
            random_state=seed,
        )
    raise ValueError(f"unknown rung model {kind!r}")


def text_columns():
    return [
        c for c in test.columns
        if c not in (ID, TARGET) and c in train.columns and train[c].dtype == object
        and train[c].nunique() > MAX_CATEGORIES and train[c].astype(str).str.len().mean() >= 20
    ]


def text_of(frame, columns):
    return frame[columns].fillna("").astype(str).agg(" ".join, axis=1) if columns else pd.Series("", index=frame.index)


def text_model(kind, params):
    """A text rung's model on TF-IDF features (regression: ridge for naive Bayes, a linear SVR for the SVM)."""
    alpha = params["alpha"]
    if kind == "tfidf-nb":
        return MultinomialNB(alpha=alpha) if CLASSIFY else Ridge(alpha=100.0 * alpha)
    if kind == "tfidf-svm":
        return LinearSVC(C=1.0 / alpha, random_state=0) if CLASSIFY else LinearSVR(C=1.0 / alpha, random_state=0, max_iter=5000)
    return LogisticRegression(C=1.0 / alpha, max_iter=2000) if CLASSIFY else Ridge(alpha=alpha)


def text_features(rows):
    """TF-IDF of the free-text columns, fitted on the rows the rung learns from."""
    columns = text_columns()
    char = bool(P.get("char"))
    vectorizer = TfidfVectorizer(
        max_features=int(P["words"]),
        ngram_range=(2 if char else 1, int(P.get("ngrams", 1))),
        analyzer="char_wb" if char else "word",
        sublinear_tf=True,
        min_df=2 if len(rows) >= 200 else 1,
    )
    # character n-grams cost per character: the first CHAR_PREFIX characters of each text are enough
    cut = (lambda text: text.str.slice(0, CHAR_PREFIX)) if char else (lambda text: text)
    X = vectorizer.fit_transform(cut(text_of(train.loc[rows], columns)))
    return X, vectorizer.transform(cut(text_of(test, columns)))


def members():
    """(model, share of the rows it learns from, seed) for each model whose predictions are averaged."""
    kind = RUNG["model"]
    if kind == "bagged-boosting":
        return [(single("boosting", P, seed), 0.8, seed) for seed in range(int(P["bags"]))]
    if kind == "blend":
        models = [single("boosting", {"iterations": 100, "rate": 0.1})]
        if P.get("forest"):
            models.append(single("forest", {"trees": 100, "depth": 0}))
        if P.get("extra"):
            models.append(single("extra-trees", {"trees": 100, "depth": 0}))
        if P.get("leaves"):
            models.append(single("boosting", {"iterations": 400, "rate": 0.05, "leaf": 5}))
        if P.get("linear"):
            models.append(single("linear", {"alpha": 1}))
        return [(m, 1.0, 0) for m in models]
    return [(single(kind, P), 1.0, 0)]


def fit_predict(m, X, fit_y, X_test, share, seed):
    """Class probabilities (columns in sorted class order) or regression values."""
    if share < 1:
        X = X.sample(frac=share, random_state=seed)
        fit_y = fit_y.loc[X.index]
    if isinstance(m, (KNeighborsClassifier, KNeighborsRegressor)):
        m.set_params(n_neighbors=min(m.n_neighbors, len(X)))
    dense = lambda frame: frame.values if isinstance(frame, pd.DataFrame) else frame
    m.fit(dense(X), fit_y.values)
    if not CLASSIFY:
        return m.predict(dense(X_test))
    if hasattr(m, "predict_proba"):
        proba = m.predict_proba(dense(X_test))
    else:  # an SVM's margins as probabilities: a logistic for two classes, a softmax for more
        margin = m.decision_function(dense(X_test))
        if margin.ndim == 1:
            proba = np.column_stack([1 / (1 + np.exp(margin)), 1 / (1 + np.exp(-margin))])
        else:
            e = np.exp(margin - margin.max(axis=1, keepdims=True))
            proba = e / e.sum(axis=1, keepdims=True)
    full = np.zeros((X_test.shape[0], len(CLASSES)))
    for j, c in enumerate(m.classes_):
        full[:, CLASSES.index(c)] = proba[:, j]
    return full


def prior_prediction(y):
    """The constant the sample submission predicts: the prior."""
    if METRIC == "roc-auc":
        return float((y == positive_label(y)).mean())
    if CLASSIFY:
        return y.value_counts().sort_index().idxmax()
    if METRIC == "mae":
        return float(y.median())
    if METRIC == "rmsle":
        return float(np.expm1(np.log1p(y.clip(lower=0)).mean()))
    return float(y.mean())


def positive_label(y):
    labels = sorted(y.unique().tolist())
    return 1 if 1 in labels else labels[-1]


y = train[TARGET]
if RUNG["model"] == "prior":
    prediction = np.full(len(test), prior_prediction(y), dtype=object if CLASSIFY and METRIC != "roc-auc" else float)
else:
    rows = learning_rows()
    if RUNG["model"].startswith("tfidf-"):
        X, X_test = text_features(rows)
        models = [(text_model(RUNG["model"], P), 1.0, 0)]
    else:
        numeric, categorical = chosen_features(y)
        X, X_test = encode(train.loc[rows], numeric, categorical), encode(test, numeric, categorical)
        if RUNG["scale"]:
            mean, std = X.mean(), X.std().replace(0, 1).fillna(1)
            X, X_test = (X - mean) / std, (X_test - mean) / std
        models = members()
    fit_y = np.log1p(y.loc[rows].clip(lower=0)) if METRIC == "rmsle" else y.loc[rows]
    CLASSES = sorted(y.unique().tolist()) if CLASSIFY else []
    average = np.mean([fit_predict(m, X, fit_y, X_test, share, seed) for m, share, seed in models], axis=0)
    if METRIC == "roc-auc":
        prediction = average[:, CLASSES.index(positive_label(y))]
    elif CLASSIFY:
        prediction = np.array(CLASSES, dtype=object)[average.argmax(axis=1)]
    elif METRIC == "rmsle":
        prediction = np.expm1(average).clip(min=0)
    else:
        prediction = average

pd.DataFrame({out_id: test[ID].values, out_target: prediction}).to_csv("/workspace/submission.csv", index=False)
