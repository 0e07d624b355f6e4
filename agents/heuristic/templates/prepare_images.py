CONFIG = {}  # written by the Designer (agents/heuristic/image-designer.ts)
"""Splits raw/ (data.csv: image path, label; the images beside it) into public train/ and test/
image folders, train.csv (id, image, label), test.csv (id, image) and private answers, deterministically.

Every image is decoded and written again as PNG under a fresh random id, so neither its original
file name nor its metadata (EXIF, PNG text chunks) reaches public/. Exact duplicate images (same
bytes) are kept once, so no test image is also in train."""
import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image
from sklearn.model_selection import train_test_split


def as_label(values: pd.Series) -> pd.Series:
    """Labels as lower-case text, with 1.0 and 1 read as the same label."""
    numeric = pd.to_numeric(values, errors="coerce")
    if numeric.notna().all() and (numeric == numeric.round()).all():
        return numeric.astype("int64").astype(str)
    return values.astype(str).str.lower()


def trivial_prediction(y: pd.Series):
    """What the sample submission predicts for every image: the simplest reasonable guess."""
    if CONFIG["metric"] == "roc-auc":
        return float(y.mean())
    return y.value_counts().sort_index().idxmax()


def clean_copy(source: Path, destination: Path) -> None:
    """The pixels only, as PNG: a fresh image from the decoded array carries no metadata."""
    with Image.open(source) as image:
        mode = image.mode if image.mode in ("L", "RGB", "RGBA", "I;16") else "RGB"
        pixels = np.asarray(image.convert(mode))
    Image.fromarray(pixels).save(destination, format="PNG")


def prepare(raw: Path, public: Path, private: Path) -> None:
    c = CONFIG
    target, id_col, image_col = c["target"], c["id"], c["image"]
    df = pd.read_csv(raw / "data.csv", dtype=str, keep_default_na=False)
    df = df[df[target] != ""].reset_index(drop=True)
    if c.get("classes"):
        df = df[as_label(df[target]).isin([str(v).lower() for v in c["classes"]])].reset_index(drop=True)
    df["_content"] = [hashlib.sha256((raw / p).read_bytes()).hexdigest() for p in df[image_col]]
    df = df.drop_duplicates(subset="_content").reset_index(drop=True)
    if c.get("positive") is not None:
        df[target] = (as_label(df[target]) == str(c["positive"]).lower()).astype(int)
    rng = np.random.RandomState(c["seed"])
    # Fresh ids from a seeded permutation: they carry neither file name, order nor label.
    df.insert(0, id_col, rng.permutation(len(df)) + 100000)
    n_test = int(round(len(df) * c["testFraction"]))
    counts = df[target].value_counts()
    stratify = df[target] if counts.min() >= 2 else None
    train, test = train_test_split(df, test_size=n_test, random_state=c["seed"], stratify=stratify)

    private.mkdir(parents=True, exist_ok=True)
    for name, part in (("train", train), ("test", test)):
        (public / name).mkdir(parents=True, exist_ok=True)
        paths = [f"{name}/{i}.png" for i in part[id_col]]
        for source, destination in zip(part[image_col], paths):
            clean_copy(raw / source, public / destination)
        part[image_col] = paths
    train[[id_col, image_col, target]].to_csv(public / "train.csv", index=False)
    test[[id_col, image_col]].to_csv(public / "test.csv", index=False)
    test[[id_col, target]].to_csv(private / "answers.csv", index=False)
    sample = test[[id_col]].copy()
    sample[target] = trivial_prediction(train[target])
    sample.to_csv(public / "sample_submission.csv", index=False)
