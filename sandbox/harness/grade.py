"""Grades /data/submission.csv against /data/answers.csv with /data/metric.py.

Runs in its own container, the only one that sees the private answers. Prints one JSON line:
{"valid": true, "score": ...} or {"valid": false, "error": "..."}.
"""
import importlib.util
import json
import math
import sys

import pandas as pd


def load_metric():
    spec = importlib.util.spec_from_file_location("metric", "/data/metric.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main():
    metric = load_metric()
    invalid = getattr(metric, "InvalidSubmission", None)
    try:
        submission = pd.read_csv("/data/submission.csv")
    except Exception as e:  # an unreadable file is the submitter's mistake, not the grader's
        return {"valid": False, "error": f"submission.csv is not a readable CSV: {e}"}
    answers = pd.read_csv("/data/answers.csv")
    try:
        score = metric.grade(submission, answers)
    except Exception as e:
        if invalid is not None and isinstance(e, invalid):
            return {"valid": False, "error": str(e)}
        raise
    if not isinstance(score, (int, float)) or not math.isfinite(score):
        return {"valid": False, "error": f"metric.py returned {score!r}, not a finite number"}
    return {"valid": True, "score": float(score)}


if __name__ == "__main__":
    print(json.dumps(main()))
    sys.stdout.flush()
