"""The deterministic assertion checks of a task package (Anvil task v1), run inside the sandbox.

The package is mounted read-only at /data. This script writes /workspace/report.json,
    {"checks": [{"name", "passed", "detail", "evidence"?}, ...]},
with one entry per assertion check of domain/verification.ts except `manifest.valid` (Node
validates task.json), in that order, and leaves what the first prepare run wrote in
/workspace/public and /workspace/private. It never fails itself: an exception fails only the
check it happened in, and the report is rewritten after every check, so a run killed half-way
still names the check it stopped in.

The metric receives each submission and the answers as `pd.read_csv` gives them, default options.
A classification task's sample submission may be [id, target] or [id, one probability column per
class]; the harness builds its reference submissions (the answers, perturbed answers, malformed
variants) in whichever of the two the sample uses.

Time limits: ANVIL_PREPARE_TIMEOUT_S per prepare run (default 300), ANVIL_GRADE_TIMEOUT_S per
metric import or grade() call (default 60). The two prepare runs share one deadline, and after
one grade() call times out the later ones fail at once, so hanging package code costs at most
ANVIL_PREPARE_TIMEOUT_S + 2 * ANVIL_GRADE_TIMEOUT_S: give the sandbox more than that.
"""
import hashlib
import importlib.util
import io
import json
import math
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
import traceback
from pathlib import Path

import numpy as np
import pandas as pd

PACKAGE = Path("/data")
WORK = Path("/workspace")
# Mirrors PACKAGE_FILES, PUBLIC_FILES and PRIVATE_FILES in domain/task.ts.
PACKAGE_FILES = ["task.json", "description.md", "prepare.py", "metric.py", "solutions/baseline.py"]
PUBLIC_FILES = ["train.csv", "test.csv", "sample_submission.csv"]
PRIVATE_FILES = ["answers.csv"]
PREPARE_TIMEOUT_S = int(os.environ.get("ANVIL_PREPARE_TIMEOUT_S", "300"))
GRADE_TIMEOUT_S = int(os.environ.get("ANVIL_GRADE_TIMEOUT_S", "60"))
EVIDENCE_CHARS = 2000
CLASSIFICATION = {"binary-classification", "multiclass-classification"}

# Description sections and the heading words that name them, tried in this order ("Data
# submission" is about submissions, "Data description" about data).
SECTIONS = {
    "submission format": {"submission", "submissions", "submit", "submitting"},
    "evaluation": {"evaluation", "evaluated", "metric", "metrics", "scoring", "score"},
    "data": {"data", "dataset", "datasets", "file", "files", "features", "columns"},
    "overview": {"overview", "introduction", "description", "background", "summary", "about", "task", "goal", "problem"},
}

# A test column that gives the target on this share of at least this many rows is the target.
COPY_SHARE = 0.99
COPY_MIN_ROWS = 20

# An id is "predictive" when a shallow model on it alone reaches this held-out skill:
# (accuracy - majority share) / (1 - majority share) for classes, R^2 for numbers.
ID_SKILL_LIMIT = 0.8
ID_MODEL_MAX_ROWS = 5000


# ---------------------------------------------------------------- verdicts and the report


class Failed(Exception):
    """The check ran and failed; the message is its detail."""

    def __init__(self, detail, evidence=None):
        super().__init__(detail)
        self.evidence = evidence


class NotRun(Exception):
    """Something the check needs failed; the message names it."""

    def __init__(self, dependency, evidence=None):
        super().__init__(dependency)
        self.evidence = evidence


class GradeTimeout(Exception):
    pass


class GradingFailed(Exception):
    """grade() raised on one of our reference submissions; keeps what it raised."""

    def __init__(self, cause):
        super().__init__(describe(cause))
        self.evidence = {"traceback": clip("".join(traceback.format_exception(cause)))}


def one_line(text, limit=300):
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def describe(exc):
    message = str(exc).strip().splitlines()
    return one_line(f"{type(exc).__name__}: {message[0]}" if message else type(exc).__name__)


def clip(text, limit=1500):
    """The end of a long text (a traceback's last lines say the most)."""
    return text if len(text) <= limit else "…" + text[-limit:]


def jsonable(value):
    """Evidence as plain JSON: numpy scalars unwrapped, NaN and infinities as strings."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def bounded(evidence):
    evidence = jsonable(evidence)
    text = json.dumps(evidence)
    return evidence if len(text) <= EVIDENCE_CHARS else text[: EVIDENCE_CHARS - 1] + "…"


class Report:
    def __init__(self, names, path):
        self.path = path
        self.results = {n: {"name": n, "passed": False, "detail": "not run: the harness stopped before this check"} for n in names}

    def record(self, result):
        self.results[result["name"]] = result
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"checks": list(self.results.values())}, indent=1))
        os.replace(tmp, self.path)

    def passed(self, name):
        return self.results[name]["passed"]


def run_check(name, fn):
    """fn returns a detail (or (detail, evidence)) when the check passes and raises otherwise."""
    passed = False
    try:
        outcome = fn()
        detail, evidence = outcome if isinstance(outcome, tuple) else (outcome, None)
        passed = True
    except NotRun as exc:
        detail, evidence = f"not run: {exc} failed", exc.evidence
    except Failed as exc:
        detail, evidence = str(exc), exc.evidence
    except BaseException as exc:  # SystemExit from package code too; only the check fails
        detail, evidence = describe(exc), {"traceback": clip(traceback.format_exc())}
    result = {"name": name, "passed": passed, "detail": one_line(detail)}
    if evidence is not None:
        result["evidence"] = bounded(evidence)
    return result


# ---------------------------------------------------------------- the package under test


def read_csv(path, as_text=False):
    """As the metric would see it, or every cell as its exact text ("" for empty)."""
    return pd.read_csv(path, dtype=str, keep_default_na=False) if as_text else pd.read_csv(path)


def as_read(frame):
    """A built submission as it reads back from a CSV file."""
    return pd.read_csv(io.StringIO(frame.to_csv(index=False)))


def output_hashes(root):
    """sha256 of every file under root/public and root/private, by path relative to root."""
    files = [p for sub in ("public", "private") for p in sorted((root / sub).rglob("*")) if p.is_file()]
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


PREPARE_DRIVER = """
import importlib.util, sys
from pathlib import Path
spec = importlib.util.spec_from_file_location("prepare", "/data/prepare.py")
module = sys.modules["prepare"] = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
if not callable(getattr(module, "prepare", None)):
    sys.exit("prepare.py defines no prepare(raw, public, private) function")
module.prepare(Path("/data/raw"), Path(sys.argv[1]) / "public", Path(sys.argv[1]) / "private")
"""


def start_prepare(run_dir, hash_seed):
    for sub in ("public", "private"):
        (run_dir / sub).mkdir(parents=True, exist_ok=True)
    log = open(run_dir / "prepare.log", "wb")
    env = {**os.environ, "PYTHONHASHSEED": str(hash_seed)}
    return subprocess.Popen([sys.executable, "-c", PREPARE_DRIVER, str(run_dir)], cwd=run_dir, env=env, stdout=log, stderr=subprocess.STDOUT), log


def finish_prepare(process, log, run_dir, deadline):
    """None when it exited 0 by the deadline, else why not (with its log as evidence)."""
    try:
        code = process.wait(timeout=max(0.1, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        code = None
    log.close()
    if code == 0:
        return None
    output = (run_dir / "prepare.log").read_text(errors="replace")
    lines = [line for line in output.splitlines() if line.strip()]
    why = f"did not finish within {PREPARE_TIMEOUT_S} s" if code is None else f"exited {code}" + (f": {lines[-1]}" if lines else "")
    return Failed(f"prepare.py {why}", {"output": clip(output)})


def with_time_limit(seconds, fn):
    def expire(*_):
        raise GradeTimeout(f"took longer than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        return fn()
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


class Package:
    """What the checks share: the manifest, both prepare runs, the prepared files, the metric."""

    def __init__(self):
        self.prepare_runs = {}
        self.frames = {}
        self.text_frames = {}
        self.metric = None
        self.metric_error = None
        self.scores = {}
        self._imperfect = None
        self.grade_timed_out = False
        self._load_manifest()

    def _load_manifest(self):
        self.manifest_error = self.metric_spec_error = None
        try:
            manifest = json.loads((PACKAGE / "task.json").read_text())
        except Exception as exc:
            self.manifest_error = self.metric_spec_error = f"task.json: {describe(exc)}"
            return
        self.target, self.id, self.task_type = manifest.get("target"), manifest.get("idColumn"), manifest.get("taskType")
        if not (isinstance(self.target, str) and self.target and isinstance(self.id, str) and self.id):
            self.manifest_error = "task.json needs target and idColumn (non-empty strings)"
        metric = manifest.get("metric") if isinstance(manifest.get("metric"), dict) else {}
        self.higher, self.bounds = metric.get("higherIsBetter"), metric.get("bounds") or [None, None]
        numbers = isinstance(self.bounds, list) and len(self.bounds) == 2 and all(b is None or (isinstance(b, (int, float)) and not isinstance(b, bool)) for b in self.bounds)
        if not isinstance(self.higher, bool) or not numbers:
            self.metric_spec_error = "task.json needs metric.higherIsBetter (a boolean) and metric.bounds, if any, as [low, high] (numbers or null)"

    def need_manifest(self):
        """target and idColumn, which every check on the prepared files needs."""
        if self.manifest_error:
            raise NotRun("manifest.valid", {"task.json": self.manifest_error})

    def need_metric_spec(self):
        if self.metric_spec_error:
            raise NotRun("manifest.valid", {"task.json": self.metric_spec_error})

    # -- prepared files

    def frame(self, name, as_text=False):
        return (self.text_frames if as_text else self.frames)[name]

    def load_outputs(self):
        """Reads what prepare wrote into /workspace; a Failed names what is missing or unreadable."""
        problems = []
        for folder, names in (("public", PUBLIC_FILES), ("private", PRIVATE_FILES)):
            for name in names:
                path = WORK / folder / name
                if not path.is_file():
                    problems.append(f"{folder}/{name} was not written")
                    continue
                try:
                    self.frames[name] = read_csv(path)
                    self.text_frames[name] = read_csv(path, as_text=True)
                except Exception as exc:
                    problems.append(f"{folder}/{name} is not a readable CSV ({describe(exc)})")
                    continue
                if len(self.frames[name]) == 0:
                    problems.append(f"{folder}/{name} has no rows")
        if not problems:
            answers, train = self.frames["answers.csv"], self.frames["train.csv"]
            problems += [f"answers.csv has no {c!r} column" for c in (self.id, self.target) if c not in answers.columns]
            if self.target not in train.columns:
                problems.append(f"train.csv has no {self.target!r} column")
        if problems:
            raise Failed("prepare.py ran but " + "; ".join(problems), {"problems": problems})

    # -- the task's kind and its submissions

    def kind(self):
        """'classification' or 'regression', from the task type or else from the target's values."""
        y = self.frames["answers.csv"][self.target]
        if self.task_type in CLASSIFICATION or not pd.api.types.is_numeric_dtype(y):
            return "classification"
        if self.task_type in ("regression", "forecasting"):
            return "regression"
        return "regression" if y.nunique() > 20 else "classification"

    def classes(self):
        labels = pd.concat([self.frames["train.csv"][self.target], self.frames["answers.csv"][self.target]])
        return sorted(labels.dropna().astype(str).unique())

    def probability_format(self):
        """Classification samples may hold one probability column per class instead of the label."""
        columns = list(self.frames["sample_submission.csv"].columns)
        classes = self.classes()
        return self.kind() == "classification" and len(classes) >= 2 and columns[:1] == [self.id] and sorted(columns[1:]) == classes

    def submission(self, labels):
        """A submission in the sample's format for these labels (in the answers' row order)."""
        ids = self.frames["answers.csv"][self.id]
        if not self.probability_format():
            return as_read(pd.DataFrame({self.id: ids, self.target: labels}))
        text = pd.Series(labels).astype(str)
        columns = list(self.frames["sample_submission.csv"].columns[1:])
        return as_read(pd.DataFrame({self.id: ids, **{c: (text == c).astype(float).to_numpy() for c in columns}}))

    def perfect(self):
        return self.submission(self.frames["answers.csv"][self.target].to_numpy())

    def imperfect(self):
        """The answers with a quarter of the rows wrong: labels moved to the next class, numbers jittered."""
        if self._imperfect is None:
            self._imperfect = self._perturbed()
        return self._imperfect

    def _perturbed(self):
        y = self.frames["answers.csv"][self.target].to_numpy().copy()
        rng = np.random.default_rng(0)
        rows = rng.choice(len(y), max(1, len(y) // 4), replace=False)
        if self.kind() == "regression":
            values = y.astype(float)
            spread = float(np.nanstd(values)) or 1.0
            values[rows] = np.clip(values[rows] + rng.normal(0, spread / 2, len(rows)), np.nanmin(values), np.nanmax(values))
            return self.submission(values)
        classes = sorted(pd.unique(y[~pd.isna(y)]), key=str)
        if len(classes) > 1:
            following = {c: classes[(i + 1) % len(classes)] for i, c in enumerate(classes)}
            y[rows] = [following.get(v, v) for v in y[rows]]
        return self.submission(y)

    def permuted(self):
        return self.submission(np.random.default_rng(1).permutation(self.frames["answers.csv"][self.target].to_numpy()))

    # -- the metric

    def need_metric(self):
        if self.metric is None and self.metric_error is None:
            self._load_metric()
        if self.metric_error:
            raise NotRun("metric.py import", self.metric_error)
        return self.metric

    def _load_metric(self):
        try:
            spec = importlib.util.spec_from_file_location("task_metric", PACKAGE / "metric.py")
            module = sys.modules["task_metric"] = importlib.util.module_from_spec(spec)
            with_time_limit(GRADE_TIMEOUT_S, lambda: spec.loader.exec_module(module))
            if not callable(getattr(module, "grade", None)):
                raise AttributeError("metric.py defines no grade(submission, answers) function")
            self.metric = module
        except BaseException as exc:
            self.metric_error = {"error": describe(exc), "traceback": clip(traceback.format_exc())}

    def grade(self, submission):
        """The metric's score for a submission, as a float; exceptions pass through."""
        metric, answers = self.need_metric(), self.frames["answers.csv"]
        if self.grade_timed_out:
            # One hang is enough to know; waiting out the limit on every call could outlast the sandbox.
            raise GradeTimeout(f"an earlier grading took longer than {GRADE_TIMEOUT_S} s")
        try:
            score = with_time_limit(GRADE_TIMEOUT_S, lambda: metric.grade(submission.copy(), answers.copy()))
        except GradeTimeout:
            self.grade_timed_out = True
            raise
        if isinstance(score, bool) or not isinstance(score, (int, float, np.integer, np.floating)):
            raise TypeError(f"grade() returned {type(score).__name__}, not a number")
        return float(score)

    def score(self, which):
        """The score of 'perfect' (the answers) or 'sample', graded once; a GradingFailed if it raised."""
        if which not in self.scores:
            submission = self.perfect() if which == "perfect" else self.frames["sample_submission.csv"]
            try:
                self.scores[which] = self.grade(submission)
            except NotRun:
                raise
            except BaseException as exc:
                self.scores[which] = GradingFailed(exc)
        value = self.scores[which]
        if isinstance(value, GradingFailed):
            raise value
        return value

    def need_score(self, which, check):
        """The score, or NotRun(check) when grading it raised (that check says why)."""
        try:
            return self.score(which)
        except GradingFailed:
            raise NotRun(check) from None


def close(a, b):
    """Equal up to float noise (two NaNs count as equal: the same answer twice)."""
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9) or (math.isnan(a) and math.isnan(b))


def fmt(value):
    return f"{value + 0.0:.6g}"  # + 0.0 turns -0.0 into 0


def declared(pkg):
    return f"bounds {json.dumps(pkg.bounds)}, higherIsBetter {json.dumps(pkg.higher)}"


# ---------------------------------------------------------------- checks


def check_files_present(pkg):
    missing = [f for f in PACKAGE_FILES if not (PACKAGE / f).is_file()]
    raw = PACKAGE / "raw"
    if not raw.is_dir() or not any(raw.iterdir()):
        missing.append("raw/ (the source files)")
    if missing:
        raise Failed(f"missing: {', '.join(missing)}", {"missing": missing})
    return f"all {len(PACKAGE_FILES)} package files and raw/ are present"


def headings(markdown):
    """(level, text, body) for every ATX heading outside code fences, but the title (a first, lone
    level-1 heading above the others); a body runs to the next heading of the same or a higher level."""
    found, fenced = [], False
    lines = markdown.splitlines()
    for i, line in enumerate(lines):
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
        match = None if fenced else re.match(r"^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$", line)
        if match:
            found.append((i, len(match.group(1)), match.group(2)))
    result, heading_lines = [], {j for j, _, _ in found}
    for n, (i, level, text) in enumerate(found):
        end = next((j for j, lv, _ in found[n + 1 :] if lv <= level), len(lines))
        body = "\n".join(lines[k] for k in range(i + 1, end) if k not in heading_lines)
        result.append((level, text, body))
    if len(result) > 1 and result[0][0] == 1 and all(level > 1 for level, _, _ in result[1:]):
        return result[1:]  # its body is the whole document: a word like "data" in it names no section
    return result


def section_of(heading):
    words = set(re.findall(r"[a-z]+", heading.lower()))
    return next((section for section, names in SECTIONS.items() if words & names), None)


def check_description_sections(pkg):
    path = PACKAGE / "description.md"
    if not path.is_file():
        raise Failed("description.md is missing")
    found = headings(path.read_text(errors="replace"))
    present, empty = set(), set()
    for _, text, body in found:
        section = section_of(text)
        if section:
            (present if body.strip() else empty).add(section)
    missing = [s for s in SECTIONS if s not in present]
    evidence = {"headings": [text for _, text, _ in found]}
    if missing:
        empty_note = [s for s in missing if s in empty]
        detail = f"description.md lacks a section on: {', '.join(missing)}"
        if empty_note:
            detail += f" (headed but empty: {', '.join(empty_note)})"
        raise Failed(detail, evidence)
    return "description.md has overview, data, evaluation and submission format sections", evidence


def check_prepare_runs(pkg):
    pkg.need_manifest()
    if not (PACKAGE / "prepare.py").is_file():
        raise Failed("prepare.py is missing")
    # Both runs at once; the second is kept for prepare.deterministic only if this check passes.
    started = {n: start_prepare(WORK / f"run{n}", n) for n in (1, 2)}
    deadline = time.monotonic() + PREPARE_TIMEOUT_S
    for n, (process, log) in started.items():
        pkg.prepare_runs[n] = finish_prepare(process, log, WORK / f"run{n}", deadline)
    for sub in ("public", "private"):
        shutil.rmtree(WORK / sub, ignore_errors=True)
        if (WORK / "run1" / sub).is_dir():
            os.replace(WORK / "run1" / sub, WORK / sub)
    shutil.rmtree(WORK / "run1", ignore_errors=True)
    try:
        if pkg.prepare_runs[1]:
            raise pkg.prepare_runs[1]
        pkg.load_outputs()
    except BaseException:
        shutil.rmtree(WORK / "run2", ignore_errors=True)
        raise
    sizes = {name: len(frame) for name, frame in pkg.frames.items()}
    return f"prepare.py wrote {', '.join(f'{n} ({r} rows)' for n, r in sizes.items())}", {"rows": sizes}


def first_difference(a, b):
    lines_a, lines_b = a.read_text(errors="replace").splitlines(), b.read_text(errors="replace").splitlines()
    for i, (x, y) in enumerate(zip(lines_a, lines_b)):
        if x != y:
            return {"line": i + 1, "run1": x[:200], "run2": y[:200]}
    return {"line": min(len(lines_a), len(lines_b)) + 1, "lines": [len(lines_a), len(lines_b)]}


def check_prepare_deterministic(pkg):
    run2 = WORK / "run2"
    try:
        if pkg.prepare_runs[2]:
            failure = pkg.prepare_runs[2]
            raise Failed(f"the second run failed where the first passed: {failure}", failure.evidence)
        first, second = output_hashes(WORK), output_hashes(run2)
        differ = sorted(f for f in set(first) | set(second) if first.get(f) != second.get(f))
        if differ:
            evidence = {f: first_difference(WORK / f, run2 / f) if f in first and f in second else "written by one run only" for f in differ[:5]}
            raise Failed(f"two runs wrote different files: {', '.join(differ)}", evidence)
        return f"two runs (PYTHONHASHSEED 1 and 2) wrote the same {len(second)} files, byte for byte"
    finally:
        shutil.rmtree(run2, ignore_errors=True)


def copy_share(column, target, classify):
    """How fully a test column gives away the target: the share of rows where it equals the target
    or, for classes, the skill of reading the target off its values (1 for a relabelled copy)."""
    a, b = pd.to_numeric(column, errors="coerce"), pd.to_numeric(target, errors="coerce")
    numeric = a.notna().all() and b.notna().all()
    share = float(np.isclose(a, b, rtol=1e-9, atol=1e-12).mean() if numeric else (column == target).mean())
    if classify and 2 <= column.nunique() <= target.nunique():
        majority = target.value_counts(normalize=True).iloc[0]
        purity = pd.crosstab(column, target).max(axis=1).sum() / len(target)
        share = max(share, (purity - majority) / (1 - majority))
    return share


def check_test_no_target(pkg):
    test, answers = pkg.frame("test.csv", True), pkg.frame("answers.csv", True)
    if pkg.target in test.columns:
        raise Failed(f"test.csv has the target column {pkg.target!r}")
    # The target under another name or coding: a column that gives it on (nearly) every test row.
    if pkg.id in test.columns and test[pkg.id].is_unique and answers[pkg.id].is_unique:
        joined = test.merge(answers[[pkg.id, pkg.target]].rename(columns={pkg.target: "__target__"}), on=pkg.id)
        if len(joined) >= COPY_MIN_ROWS:
            classify = pkg.kind() == "classification"
            for column in (c for c in test.columns if c != pkg.id):
                share = copy_share(joined[column], joined["__target__"], classify)
                if share >= COPY_SHARE:
                    examples = joined[[column, "__target__"]].drop_duplicates().head(5).to_numpy().tolist()
                    raise Failed(f"test.csv column {column!r} gives away the target {pkg.target!r} (agreement {share:.0%} on {len(joined)} test rows)", {"column": column, "agreement": share, "examples": examples})
    return f"test.csv has no {pkg.target!r} column and no column that copies it"


def need_id_column(pkg, files):
    missing = [f for f in files if pkg.id not in pkg.frame(f, True).columns]
    if missing:
        raise Failed(f"no {pkg.id!r} column in {', '.join(missing)}")


ID_FILES = ["test.csv", "sample_submission.csv", "answers.csv"]


def check_ids_unique(pkg):
    need_id_column(pkg, ID_FILES)
    problems, counts = [], {}
    for name in ID_FILES:
        ids = pkg.frame(name, True)[pkg.id]
        counts[name] = len(ids)
        duplicated = ids[ids.duplicated()]
        if len(duplicated):
            problems.append(f"{name} repeats {duplicated.nunique()} ids ({len(duplicated)} extra rows, e.g. {', '.join(duplicated.unique()[:3])})")
        if (ids == "").any():
            problems.append(f"{name} has {(ids == '').sum()} rows without an id")
    if problems:
        raise Failed("; ".join(problems), {"rows": counts})
    return "ids are unique in " + ", ".join(f"{n} ({c})" for n, c in counts.items())


def check_ids_aligned(pkg):
    need_id_column(pkg, ID_FILES)
    test = set(pkg.frame("test.csv", True)[pkg.id])
    problems, evidence = [], {}
    for name in ID_FILES[1:]:
        other = set(pkg.frame(name, True)[pkg.id])
        extra, missing = sorted(other - test), sorted(test - other)
        if extra or missing:
            problems.append(f"{name} has {len(extra)} ids not in test.csv and lacks {len(missing)} of its ids")
            evidence[name] = {"notInTest": extra[:5], "missingFromTest": missing[:5]}
    if problems:
        raise Failed("; ".join(problems), evidence)
    return f"test.csv, sample_submission.csv and answers.csv hold the same {len(test)} ids"


def check_split_no_row_leak(pkg):
    train, test = pkg.frame("train.csv", True), pkg.frame("test.csv", True)
    if pkg.id in train.columns and pkg.id in test.columns:
        shared = sorted(set(train[pkg.id]) & set(test[pkg.id]))
        if shared:
            raise Failed(f"{len(shared)} test ids also appear in train.csv (e.g. {', '.join(shared[:3])})", {"sharedIds": len(shared), "examples": shared[:5]})
    features = [c for c in test.columns if c in train.columns and c not in (pkg.id, pkg.target)]
    if not features:
        return "no shared ids; train.csv and test.csv share no feature columns to compare"
    train_rows = pd.util.hash_pandas_object(train[features], index=False)
    test_rows = pd.util.hash_pandas_object(test[features], index=False)
    in_train = test_rows.isin(set(train_rows)).to_numpy()
    n, k = len(test_rows), int(in_train.sum())
    # Real data has genuine duplicates: a random split puts about the within-train share of test
    # rows next to a twin in train. More than that, beyond chance, is a leak. (4 sigma + 2 rows:
    # under 0.1% false alarms on heavily duplicated real data in simulation; a 5% leak is caught.)
    p = float(train_rows.duplicated(keep=False).mean())
    allowed = n * p + 4 * math.sqrt(n * p * (1 - p)) + 2
    evidence = {"testRows": n, "testRowsInTrain": k, "withinTrainDuplicateShare": round(p, 4), "allowed": round(allowed, 1), "features": features}
    if k > allowed:
        if pkg.id in test.columns:
            evidence["examples"] = list(test[pkg.id][in_train][:5])
        raise Failed(f"{k} of {n} test rows ({k / n:.0%}) repeat a train row's features; within train only {p:.1%} of rows have a twin", evidence)
    return f"no shared ids; {k} of {n} test rows repeat a train row, within what train's own duplicate share ({p:.1%}) explains", evidence


def id_rows(pkg):
    """(id text, target) pairs from train (when it has ids) and the answers."""
    parts = [pkg.frame(f, True)[[pkg.id, pkg.target]] for f in ("train.csv", "answers.csv") if pkg.id in pkg.frame(f, True).columns]
    rows = pd.concat(parts, ignore_index=True)
    rows = rows[(rows[pkg.id] != "") & (rows[pkg.target] != "")]
    if len(rows) > ID_MODEL_MAX_ROWS:
        rows = rows.sample(ID_MODEL_MAX_ROWS, random_state=0)
    return rows[pkg.id], rows[pkg.target]


def held_out_skill(model, x, y, classify):
    """Skill of cross-validated predictions: 1 is perfect, 0 is no better than a constant."""
    from sklearn.model_selection import KFold, StratifiedKFold, cross_val_predict

    if classify and y.value_counts().min() >= 5:
        folds = StratifiedKFold(5, shuffle=True, random_state=0)
    else:
        folds = KFold(5, shuffle=True, random_state=0)
    predicted = cross_val_predict(model, x, y, cv=folds)
    if classify:
        base = y.value_counts(normalize=True).iloc[0]
        return float(((predicted == y.to_numpy()).mean() - base) / (1 - base))
    return float(1 - ((y - predicted) ** 2).sum() / ((y - y.mean()) ** 2).sum())


def check_id_not_predictive(pkg):
    # scikit-learn takes a while to import and only the id checks need it
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

    ids, y = id_rows(pkg)
    classify = pkg.kind() == "classification"
    if not classify:
        y = pd.to_numeric(y, errors="coerce")
        ids, y = ids[y.notna()], y[y.notna()]
    if len(y) < 20 or y.nunique() < 2:
        return f"{len(y)} labelled rows with {y.nunique()} distinct targets: too few to test"
    models = {
        "character n-grams of the id": make_pipeline(
            CountVectorizer(analyzer="char", ngram_range=(1, 3), binary=True, max_features=5000),
            LogisticRegression(max_iter=1000) if classify else Ridge(),
        )
    }
    numbers = pd.to_numeric(ids, errors="coerce")
    if numbers.notna().all():
        tree = DecisionTreeClassifier if classify else DecisionTreeRegressor
        models["the id's numeric value"] = tree(max_depth=5, random_state=0)
    skills = {}
    for name, model in models.items():
        x = ids if name.startswith("character") else numbers.to_frame()
        skills[name] = held_out_skill(model, x, y, classify)
    best = max(skills, key=skills.get)
    measure = "skill (accuracy above the majority class, scaled to 1)" if classify else "R²"
    evidence = {"rows": len(y), "measure": measure, "skills": {k: round(v, 3) for k, v in skills.items()}, "limit": ID_SKILL_LIMIT}
    if skills[best] >= ID_SKILL_LIMIT:
        evidence["examples"] = [[i, t] for i, t in zip(ids[:5], y[:5])]
        raise Failed(f"the id predicts {pkg.target!r} on held-out rows: a shallow model on {best} reaches {measure} {skills[best]:.2f}", evidence)
    return f"the id does not predict {pkg.target!r}: best held-out {measure} {skills[best]:.2f} < {ID_SKILL_LIMIT}", evidence


def check_sample_columns(pkg):
    columns = list(pkg.frame("sample_submission.csv").columns)
    expected = [pkg.id, pkg.target]
    if columns == expected:
        return f"sample_submission.csv columns are {expected}"
    if pkg.probability_format():
        return f"sample_submission.csv has {pkg.id!r} and one probability column per class ({len(columns) - 1})"
    raise Failed(f"sample_submission.csv columns are {columns}; expected {expected}", {"columns": columns, "expected": expected})


def better(pkg, a, b):
    """Whether score a is strictly better than b in the declared direction."""
    return not close(a, b) and (a > b if pkg.higher else a < b)


def check_metric_perfect_answers(pkg):
    pkg.need_metric_spec()
    try:
        perfect = pkg.score("perfect")
    except GradingFailed as exc:
        raise Failed(f"the answers, submitted as they are, do not grade: {exc}", exc.evidence) from None
    if not math.isfinite(perfect):
        raise Failed(f"the answers grade to {perfect}")
    best = pkg.bounds[1] if pkg.higher else pkg.bounds[0]
    if best is not None:
        if not close(perfect, best):
            raise Failed(f"the answers score {fmt(perfect)}, not the best bound {fmt(best)} ({declared(pkg)})", {"perfect": perfect, "bounds": pkg.bounds})
        return f"the answers score {fmt(perfect)}, the best bound"
    # No best bound declared: nothing we can build may score better than the answers.
    variants = {"sample submission": lambda: pkg.frames["sample_submission.csv"], "a quarter of the rows wrong": pkg.imperfect, "targets permuted": pkg.permuted}
    scores = {}
    for name, build in variants.items():
        try:
            scores[name] = pkg.grade(build())
        except BaseException as exc:
            scores[name] = describe(exc)
    beaten_by = [n for n, s in scores.items() if isinstance(s, float) and better(pkg, s, perfect)]
    if beaten_by:
        raise Failed(f"the answers ({fmt(perfect)}) score worse than: {', '.join(beaten_by)} ({declared(pkg)})", {"perfect": perfect, "variants": scores})
    return f"the answers score {fmt(perfect)}, no worse than any variant (no best bound declared)", {"variants": scores}


def check_metric_sample_valid(pkg):
    pkg.need_metric_spec()
    try:
        score = pkg.score("sample")
    except GradingFailed as exc:
        raise Failed(f"the sample submission does not grade: {exc}", exc.evidence) from None
    if not math.isfinite(score):
        raise Failed(f"the sample submission grades to {score}")
    low, high = pkg.bounds
    if (low is not None and score < low and not close(score, low)) or (high is not None and score > high and not close(score, high)):
        raise Failed(f"the sample submission scores {fmt(score)}, outside the declared {declared(pkg)}")
    return f"the sample submission scores {fmt(score)}"


def same_submission(a, b, id_column):
    if sorted(a.columns) != sorted(b.columns) or len(a) != len(b):
        return False
    as_text = [f[sorted(f.columns)].astype(str).sort_values(id_column).reset_index(drop=True) for f in (a, b)]
    return as_text[0].equals(as_text[1])


def check_metric_direction(pkg):
    pkg.need_metric_spec()
    perfect = pkg.need_score("perfect", "metric.perfect_answers")
    sample = pkg.need_score("sample", "metric.sample_valid")
    if not math.isfinite(perfect) or not math.isfinite(sample):
        raise NotRun("metric.perfect_answers" if not math.isfinite(perfect) else "metric.sample_valid")
    if same_submission(pkg.frames["sample_submission.csv"], pkg.perfect(), pkg.id):
        return "the sample submission is the answers; there is nothing to compare"
    way = "higher" if pkg.higher else "lower"
    if not better(pkg, perfect, sample):
        raise Failed(f"the answers score {fmt(perfect)} and the sample submission {fmt(sample)}, but the answers should score strictly {way} ({declared(pkg)})", {"perfect": perfect, "sample": sample})
    return f"the answers ({fmt(perfect)}) score {way} than the sample submission ({fmt(sample)})"


def graded(pkg, candidates):
    """The candidates the metric accepts, with their first score (a metric may reject a perturbation it finds out of range)."""
    accepted = {}
    for name, submission in candidates.items():
        try:
            accepted[name] = (submission, pkg.grade(submission))
        except NotRun:
            raise
        except BaseException:
            continue
    return accepted


def check_metric_order_invariant(pkg):
    pkg.need_score("perfect", "metric.perfect_answers")
    bases = graded(pkg, {"answers": pkg.perfect(), "answers with a quarter wrong": pkg.imperfect()})
    changed, seen = [], {}
    for name, (submission, before) in bases.items():
        if not close(before, pkg.grade(submission)):
            raise NotRun("metric.deterministic")  # shuffling cannot be judged against a moving score
        after = [pkg.grade(submission.sample(frac=1, random_state=seed).reset_index(drop=True)) for seed in (1, 2)]
        seen[name] = {"inOrder": before, "shuffled": after}
        if not all(close(before, a) for a in after):
            changed.append(f"{name} {fmt(before)} → {', '.join(fmt(a) for a in after)}")
    if changed:
        raise Failed(f"shuffling the submission's rows changed the score: {'; '.join(changed)}", seen)
    return f"shuffled rows score the same ({', '.join(bases)})", seen


def malformed_variants(pkg, base):
    """Submissions the metric must reject, built from a valid one."""
    unknown = base.iloc[:1].copy()
    ids = base[pkg.id]
    unknown[pkg.id] = ids.max() + 1_000_000 if pd.api.types.is_numeric_dtype(ids) else "anvil-unknown-id"
    predictions = [c for c in base.columns if c != pkg.id]
    with_nan = base.copy()
    with_nan.loc[0, predictions[0]] = np.nan
    return {
        "missing row": base.iloc[1:],
        "extra unknown id": pd.concat([base, unknown], ignore_index=True),
        "duplicated id": pd.concat([base, base.iloc[:1]], ignore_index=True),
        "NaN prediction": with_nan,
        "renamed prediction column": base.rename(columns={c: f"wrong_{c}" for c in predictions}),
        "renamed id column": base.rename(columns={pkg.id: f"wrong_{pkg.id}"}),
    }


def check_metric_rejects_malformed(pkg):
    invalid = getattr(pkg.need_metric(), "InvalidSubmission", None)
    if not (isinstance(invalid, type) and issubclass(invalid, Exception)):
        raise Failed("metric.py defines no InvalidSubmission exception class")
    outcomes, accepted = {}, []
    for name, variant in malformed_variants(pkg, pkg.perfect()).items():
        try:
            outcomes[name] = f"scored {fmt(pkg.grade(as_read(variant)))}"
        except invalid as exc:
            outcomes[name] = f"rejected: {one_line(exc, 120)}"
            continue
        except BaseException as exc:  # the wrong exception is as bad as a score
            outcomes[name] = describe(exc)
        accepted.append(f"{name} ({outcomes[name]})")
    if accepted:
        raise Failed(f"not rejected with InvalidSubmission: {'; '.join(accepted)}", outcomes)
    return f"all {len(outcomes)} malformed submissions raise InvalidSubmission", outcomes


def check_metric_deterministic(pkg):
    candidates = {"answers with a quarter wrong": pkg.imperfect(), "sample submission": pkg.frames["sample_submission.csv"], "answers": pkg.perfect()}
    bases = graded(pkg, candidates)
    if not bases:
        raise NotRun("metric.perfect_answers")
    seen, differ = {}, []
    for name, (submission, first) in bases.items():
        scores = [first]
        for seed in (1, 2):
            # Fresh global random states, as separate grading processes would have.
            random.seed(seed)
            np.random.seed(seed)
            scores.append(pkg.grade(submission))
        seen[name] = scores
        if not all(close(scores[0], s) for s in scores[1:]):
            differ.append(f"{name}: {', '.join(fmt(s) for s in scores)}")
    if differ:
        raise Failed(f"the same submission scored differently: {'; '.join(differ)}", seen)
    return f"three gradings of each submission scored the same ({', '.join(bases)})", seen


# ---------------------------------------------------------------- main

# (name, check, whether it needs prepare.runs to have passed), in the order of CHECKS.assertions.
CHECKS = [
    ("files.present", check_files_present, False),
    ("description.sections", check_description_sections, False),
    ("prepare.runs", check_prepare_runs, False),
    ("prepare.deterministic", check_prepare_deterministic, True),
    ("test.no_target", check_test_no_target, True),
    ("ids.unique", check_ids_unique, True),
    ("ids.aligned", check_ids_aligned, True),
    ("split.no_row_leak", check_split_no_row_leak, True),
    ("id.not_predictive", check_id_not_predictive, True),
    ("sample.columns", check_sample_columns, True),
    ("metric.perfect_answers", check_metric_perfect_answers, True),
    ("metric.sample_valid", check_metric_sample_valid, True),
    ("metric.direction", check_metric_direction, True),
    ("metric.order_invariant", check_metric_order_invariant, True),
    ("metric.rejects_malformed", check_metric_rejects_malformed, True),
    ("metric.deterministic", check_metric_deterministic, True),
]


def main():
    report = Report([name for name, _, _ in CHECKS], WORK / "report.json")
    pkg = Package()
    for name, check, needs_prepared in CHECKS:

        def attempt(check=check, needs_prepared=needs_prepared):
            if needs_prepared and not report.passed("prepare.runs"):
                raise NotRun("prepare.runs")
            return check(pkg)

        report.record(run_check(name, attempt))


if __name__ == "__main__":
    main()
