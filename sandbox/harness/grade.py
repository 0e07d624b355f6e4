"""Grades /data/submission.csv against /data/answers.csv with /data/metric.py.

Runs in its own container, the only one that sees the private answers. Prints one JSON line:
{"valid": true, "score": ..., "public": ..., "private": ...} or {"valid": false, "error": "..."}.
Batch mode (the reference ladder's): with a folder /data/submissions, grades each NAME.csv in it and
prints one JSON line {NAME: result}; a metric that raises on one submission makes that one invalid.

/data/split.json (optional: {"idColumn", "publicShare", "seed"}) splits the answers as Kaggle does:
a fixed, seeded share of the ids is "public" (what the agent's steps are scored on), the rest
"private" (what its final reward is). `score` is the whole test set's.
"""
import hashlib
import importlib.util
import json
import math
import os
import sys

import pandas as pd


def load_metric():
    spec = importlib.util.spec_from_file_location("metric", "/data/metric.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def finite(score):
    return isinstance(score, (int, float)) and math.isfinite(score)


def public_ids(ids, share, seed):
    """The public ids: the first round(share * n) distinct ids in the order of a seeded hash."""
    distinct = sorted(set(ids))
    rank = sorted(distinct, key=lambda i: hashlib.sha256(f"{seed}:{i}".encode()).hexdigest())
    return set(rank[: int(round(share * len(distinct)))])


def split_scores(metric, submission, answers, split):
    """(public, private) scores, or None when there is no split or the metric cannot score a part."""
    share = float(split.get("publicShare", 0))
    id_column = split.get("idColumn")
    if id_column not in answers.columns:
        id_column = answers.columns[0]
    if id_column not in submission.columns or not 0 < share < 1:
        return None
    answer_ids = answers[id_column].astype(str)
    chosen = public_ids(answer_ids, share, split.get("seed", 0))
    if not chosen or len(chosen) == answer_ids.nunique():
        return None
    in_answers = answer_ids.isin(chosen)
    in_submission = submission[id_column].astype(str).isin(chosen)
    try:
        public = metric.grade(submission[in_submission].reset_index(drop=True), answers[in_answers].reset_index(drop=True))
        private = metric.grade(
            submission[~in_submission].reset_index(drop=True), answers[~in_answers].reset_index(drop=True)
        )
    except Exception:  # a metric undefined on a part (e.g. one class only): the whole set's score stands in
        return None
    return (float(public), float(private)) if finite(public) and finite(private) else None


def grade(metric, path, answers):
    invalid = getattr(metric, "InvalidSubmission", None)
    try:
        submission = pd.read_csv(path)
    except Exception as e:  # an unreadable file is the submitter's mistake, not the grader's
        return {"valid": False, "error": f"submission.csv is not a readable CSV: {e}"}
    try:
        score = metric.grade(submission, answers)
    except Exception as e:
        if invalid is not None and isinstance(e, invalid):
            return {"valid": False, "error": str(e)}
        raise
    if not finite(score):
        return {"valid": False, "error": f"metric.py returned {score!r}, not a finite number"}
    result = {"valid": True, "score": float(score)}
    if os.path.exists("/data/split.json"):
        with open("/data/split.json") as f:
            parts = split_scores(metric, submission, answers, json.load(f))
        public, private = parts if parts else (float(score), float(score))
        result.update({"public": public, "private": private})
    return result


def grade_batch(metric, answers):
    results = {}
    for name in sorted(f[: -len(".csv")] for f in os.listdir(BATCH) if f.endswith(".csv")):
        try:
            results[name] = grade(metric, os.path.join(BATCH, name + ".csv"), answers.copy())
        except Exception as e:
            results[name] = {"valid": False, "error": f"metric.py failed while grading: {type(e).__name__}: {e}"}
    return results


BATCH = "/data/submissions"

if __name__ == "__main__":
    metric, answers = load_metric(), pd.read_csv("/data/answers.csv")
    batch = os.path.isdir(BATCH)
    print(json.dumps(grade_batch(metric, answers) if batch else grade(metric, "/data/submission.csv", answers)))
    sys.stdout.flush()
