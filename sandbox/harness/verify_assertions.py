"""The deterministic assertion checks of a task package (Anvil task v1), run inside the sandbox.

The package is mounted read-only at /data. The report goes to stdout, one line per check,
    ANVIL-CHECK <nonce> {"name", "passed", "detail", "evidence"?}
with one entry per assertion check of domain/verification.ts that runs in here, in that order;
<nonce> is the per-run secret the host passes in ANVIL_REPORT_NONCE. The harness leaves what the
first prepare run wrote in /workspace/public and /workspace/private. It never fails itself: an
exception fails only the check it happened in, and each check is reported as it ends, so a run
killed half-way still reports the checks before the one it stopped in.

Package code (prepare.py, metric.py) never runs in this process: prepare runs in child processes,
the metric in a grading child that gets submissions over a pipe and answers in JSON (never
pickle). This process re-executes itself isolated (python -I), drops the nonce from the
environment its children inherit and makes itself undumpable, so package code can neither read
the nonce (/proc/1/environ, memory) nor write to this process's stdout; whatever it writes into
/workspace is data, never the report. As the container's init (pid 1, as DockerSandbox runs it)
it also ends every process package code left behind (kill(-1)) before reading what it wrote.

The metric receives each submission and the answers as `pd.read_csv` gives them, default options.
A classification task's sample submission may be [id, target] or [id, one probability column per
class]; the harness builds its reference submissions (the answers, perturbed answers, malformed
variants) in whichever of the two the sample uses.

Time limits: ANVIL_PREPARE_TIMEOUT_S per prepare run (default 300), ANVIL_GRADE_TIMEOUT_S per
metric import or grade() call (default 60). The two prepare runs share one deadline, and after
one grade() call times out the later ones fail at once, so hanging package code costs at most
ANVIL_PREPARE_TIMEOUT_S + 2 * ANVIL_GRADE_TIMEOUT_S: give the sandbox more than that.
"""
import bz2
import gzip
import hashlib
import io
import json
import lzma
import math
import os
import pickle
import re
import select
import shutil
import signal
import stat
import subprocess
import sys
import time
import traceback
import zipfile
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

# A public column "gives the answers back" at COPY_SHARE agreement, or as a linear recoding of a
# numeric target (|correlation| at least this).
AFFINE_CORRELATION = 0.9999
# A compressed public file may expand to 4 times raw/, and to at least this much.
DECOMPRESSED_MIN_MB = int(os.environ.get("ANVIL_DECOMPRESSED_MIN_MB", "64"))
DECOMPRESSORS = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}
TABLE_SUFFIXES = {".csv", ".tsv", ".tab", ".txt", ".json", ".jsonl", ".ndjson"}

# "Trivially derivable": a tiny model (a shallow tree, or a quadratic formula for numbers) on one
# or two train columns reaches this held-out skill (as for ids) or R².
TRIVIAL_SKILL = 0.98
TRIVIAL_R2 = 0.99
TRIVIAL_TREE_DEPTH = 5
TRIVIAL_MAX_ROWS = 3000
TRIVIAL_PAIR_COLUMNS = 6

# A regression metric must score answers off by SMALL_NOISE of the target's spread better than
# answers off by LARGE_NOISE.
SMALL_NOISE, LARGE_NOISE = 0.05, 0.5


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
        self.evidence = getattr(cause, "evidence", None) or {"traceback": clip("".join(traceback.format_exception(cause)))}


def one_line(text, limit=300):
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def describe(exc):
    name = getattr(exc, "type_name", type(exc).__name__)  # a MetricRaised names what grade() raised
    message = str(exc).strip().splitlines()
    return one_line(f"{name}: {message[0]}" if message else name)


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
    """Each check's verdict as one stdout line carrying the run's nonce; nothing else goes to stdout."""

    def __init__(self, nonce):
        self.nonce = nonce
        self.results = {}
        self.out = os.fdopen(os.dup(1), "w")
        os.dup2(2, 1)  # stray prints (a library's warning) go to stderr, never among the report lines
        sys.stdout = sys.stderr

    def record(self, result):
        self.results[result["name"]] = result
        self.out.write(f"ANVIL-CHECK {self.nonce} {json.dumps(result)}\n")
        self.out.flush()

    def passed(self, name):
        return self.results.get(name, {}).get("passed", False)


def isolate():
    """Re-executes isolated (no user site, no PYTHON* variables, no cwd on sys.path), takes the
    nonce out of the environment children inherit and makes this process undumpable: processes
    of the same user can then read neither its memory, environment nor file descriptors."""
    if not sys.flags.isolated:
        os.execv(sys.executable, [sys.executable, "-I", *sys.argv])
    import ctypes

    PR_SET_DUMPABLE = 4
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    return os.environ.pop("ANVIL_REPORT_NONCE", "")


def kill_package_processes():
    """Ends every process package code left behind (as the container's init, kill(-1) reaches all
    but this one); outside a container (pid != 1) only process groups are killed, by their owners."""
    if os.getpid() != 1:
        return
    try:
        os.kill(-1, signal.SIGKILL)
    except ProcessLookupError:
        pass
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            if os.waitpid(-1, os.WNOHANG)[0] == 0:
                time.sleep(0.05)
        except ChildProcessError:
            return


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
    return subprocess.Popen([sys.executable, "-c", PREPARE_DRIVER, str(run_dir)], cwd=run_dir, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True), log


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


GRADE_WORKER = r"""
import importlib.util, json, os, pickle, random, sys, traceback
import numpy as np

replies = os.fdopen(os.dup(1), "w")
requests = os.fdopen(os.dup(0), "rb")
os.dup2(2, 1)  # the metric's prints go to the log, not among the replies
os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
sys.stdout = sys.stderr


def send(**reply):
    replies.write(json.dumps(reply) + "\n")
    replies.flush()


def failure(exc, invalid=False):
    return dict(ok=False, type=type(exc).__name__, message=str(exc)[:2000], invalid=invalid,
                traceback="".join(traceback.format_exception(exc))[-1500:])


try:
    spec = importlib.util.spec_from_file_location("task_metric", "/data/metric.py")
    module = sys.modules["task_metric"] = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if not callable(getattr(module, "grade", None)):
        raise AttributeError("metric.py defines no grade(submission, answers) function")
except BaseException as exc:
    send(**failure(exc))
    sys.exit(0)
invalid = getattr(module, "InvalidSubmission", None)
invalid = invalid if isinstance(invalid, type) and issubclass(invalid, Exception) else None
send(ok=True, invalidClass=invalid is not None)
while True:
    try:
        submission, answers, seed = pickle.load(requests)
    except EOFError:
        break
    if seed is not None:  # fresh global random states, as separate grading processes would have
        random.seed(seed)
        np.random.seed(seed)
    try:
        score = module.grade(submission, answers)
        if isinstance(score, bool) or not isinstance(score, (int, float, np.integer, np.floating)):
            raise TypeError(f"grade() returned {type(score).__name__}, not a number")
        send(ok=True, score=float(score))
    except BaseException as exc:
        send(**failure(exc, invalid is not None and isinstance(exc, invalid)))
"""
REPLY_MAX_BYTES = 64 * 1024


class MetricRaised(Exception):
    """What grade() raised in the grading child: its type name, message and traceback."""

    def __init__(self, reply):
        super().__init__(reply.get("message", ""))
        self.type_name = str(reply.get("type", "Exception"))
        self.invalid = reply.get("invalid") is True
        self.evidence = {"traceback": clip(str(reply.get("traceback", "")))}


class MetricWorker:
    """metric.py in a child process: submissions go in pickled, scores come back as JSON lines."""

    def __init__(self):
        self.process = None
        self.has_invalid_class = False
        self.buffer = b""

    def start(self):
        """None when metric.py imported, else why not (the NotRun evidence)."""
        self.log = open(WORK / "metric.log", "wb")
        self.process = subprocess.Popen([sys.executable, "-c", GRADE_WORKER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log, cwd=WORK, start_new_session=True)
        try:
            reply = self._reply(GRADE_TIMEOUT_S)
        except BaseException as exc:
            return {"error": describe(exc)}
        if not reply.get("ok"):
            return {"error": one_line(f"{reply.get('type')}: {reply.get('message')}"), "traceback": clip(str(reply.get("traceback", "")))}
        self.has_invalid_class = reply.get("invalidClass") is True
        return None

    def grade(self, submission, answers, seed):
        deadline = time.monotonic() + GRADE_TIMEOUT_S
        self._send(pickle.dumps((submission.copy(), answers.copy(), seed)), deadline)
        reply = self._reply(max(0.1, deadline - time.monotonic()))
        if not reply.get("ok"):
            raise MetricRaised(reply)
        score = reply.get("score")
        if isinstance(score, bool) or not isinstance(score, (int, float)):
            raise TypeError("the grading process sent no score")
        return float(score)

    def _send(self, data, deadline):
        fd = self.process.stdin.fileno()
        while data:
            if not select.select([], [fd], [], max(0, deadline - time.monotonic()))[1]:
                self._expire()
            try:
                data = data[os.write(fd, data[:65536]):]
            except BrokenPipeError:
                raise RuntimeError("the grading process ended (metric.py exited)") from None

    def _reply(self, seconds):
        deadline = time.monotonic() + seconds
        fd = self.process.stdout.fileno()
        while b"\n" not in self.buffer:
            if len(self.buffer) > REPLY_MAX_BYTES:
                raise RuntimeError("the grading process sent an over-long reply")
            if not select.select([fd], [], [], max(0, deadline - time.monotonic()))[0]:
                self._expire()
            chunk = os.read(fd, 65536)
            if not chunk:
                raise RuntimeError("the grading process ended (metric.py exited)")
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        reply = json.loads(line)
        if not isinstance(reply, dict):
            raise RuntimeError("the grading process sent a malformed reply")
        return reply

    def _expire(self):
        self.stop()
        raise GradeTimeout(f"took longer than {GRADE_TIMEOUT_S} s")

    def stop(self):
        if self.process and self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.process.wait()


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
        self.links = {}  # by prepare run: the links and special files it made
        self.sealed = None  # hashes of public/ and private/ once prepare ended
        self._load_manifest()

    def _load_manifest(self):
        self.manifest_error = self.metric_spec_error = None
        try:
            manifest = json.loads((PACKAGE / "task.json").read_text())
        except Exception as exc:
            self.manifest_error = self.metric_spec_error = f"task.json: {describe(exc)}"
            return
        self.target, self.id, self.task_type = manifest.get("target"), manifest.get("idColumn"), manifest.get("taskType")
        self.forecast = manifest.get("forecast")
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
        """The grading child, started on first use; NotRun when metric.py does not import."""
        if self.metric is None and self.metric_error is None:
            self.metric = MetricWorker()
            self.metric_error = self.metric.start()
        if self.metric_error:
            raise NotRun("metric.py import", self.metric_error)
        return self.metric

    def grade(self, submission, seed=None):
        """The metric's score for a submission, as a float; a MetricRaised when grade() raised."""
        metric, answers = self.need_metric(), self.frames["answers.csv"]
        if self.grade_timed_out:
            # One hang is enough to know; waiting out the limit on every call could outlast the sandbox.
            raise GradeTimeout(f"an earlier grading took longer than {GRADE_TIMEOUT_S} s")
        try:
            return metric.grade(submission, answers, seed)
        except GradeTimeout:
            self.grade_timed_out = True
            raise

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
    kill_package_processes()  # nothing prepare started may still be writing while we read
    pkg.links = {n: remove_links(WORK / f"run{n}") for n in (1, 2)}
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
    pkg.sealed = output_hashes(WORK)
    sizes = {name: len(frame) for name, frame in pkg.frames.items()}
    return f"prepare.py wrote {', '.join(f'{n} ({r} rows)' for n, r in sizes.items())}", {"rows": sizes}


def first_difference(a, b):
    lines_a, lines_b = a.read_text(errors="replace").splitlines(), b.read_text(errors="replace").splitlines()
    for i, (x, y) in enumerate(zip(lines_a, lines_b)):
        if x != y:
            return {"line": i + 1, "run1": x[:200], "run2": y[:200]}
    return {"line": min(len(lines_a), len(lines_b)) + 1, "lines": [len(lines_a), len(lines_b)]}


def remove_links(root):
    """Removes every symbolic link and special file (fifo, socket, device) under root without
    following any; returns them as 'path -> target' (or 'path (kind)'), relative to root."""
    found = []
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(folder) / name
            mode = path.lstat().st_mode
            if stat.S_ISDIR(mode) or stat.S_ISREG(mode):
                continue
            relative = str(path.relative_to(root))
            found.append(f"{relative} -> {os.readlink(path)}" if stat.S_ISLNK(mode) else f"{relative} (special file)")
            path.unlink()
    return sorted(found)


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


def decompressed_limit():
    """Bytes a compressed public file may expand to: 4 times raw/, and at least ANVIL_DECOMPRESSED_MIN_MB."""
    raw = sum(p.stat().st_size for p in (PACKAGE / "raw").rglob("*") if p.is_file()) if (PACKAGE / "raw").is_dir() else 0
    return max(DECOMPRESSED_MIN_MB * 1024 * 1024, 4 * raw)


class TooLarge(Exception):
    pass


def read_bounded(stream, limit):
    """At most `limit` bytes of a stream; TooLarge, having read no further, when there are more."""
    chunks, total = [], 0
    while chunk := stream.read(1 << 20):
        total += len(chunk)
        if total > limit:
            raise TooLarge(f"decompresses past {limit >> 20} MiB")
        chunks.append(chunk)
    return b"".join(chunks)


def is_table_name(name):
    return Path(name).suffix.lower() in TABLE_SUFFIXES


def public_members(path, limit):
    """(name, bytes) of the tables in a public file, decompressed: none for what is no table (an
    image, a model), one pair, or one per table member of a zip. What would expand past `limit`
    raises TooLarge, having read no further."""
    suffix = path.suffix.lower()
    if suffix in DECOMPRESSORS:
        if not is_table_name(path.stem):
            return []
        with DECOMPRESSORS[suffix](path, "rb") as stream:
            return [(path.stem, read_bounded(stream, limit))]
    if suffix == ".zip":
        with zipfile.ZipFile(path) as archive:
            members = [i for i in archive.infolist() if not i.is_dir() and is_table_name(i.filename)]
            declared = sum(i.file_size for i in members)
            if declared > limit:
                raise TooLarge(f"its tables declare {declared >> 20} MiB unpacked, over {limit >> 20} MiB")
            out, left = [], limit
            for info in members:
                with archive.open(info) as stream:
                    out.append((info.filename, read_bounded(stream, left)))
                left -= len(out[-1][1])
            return out
    if not is_table_name(path.name):
        return []
    if path.stat().st_size > limit:
        raise TooLarge(f"{path.stat().st_size >> 20} MiB, over {limit >> 20} MiB")
    return [(path.name, path.read_bytes())]


def json_tables(value):
    """Tables a JSON document holds: records, columns, or key → value(s) pairs."""
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        return [pd.DataFrame(value)]
    if isinstance(value, dict) and value:
        values = list(value.values())
        if all(isinstance(v, dict) for v in values):
            return [pd.DataFrame.from_dict(value, orient="index").reset_index()]
        pairs = [(k, item) for k, v in value.items() for item in (v if isinstance(v, list) else [v]) if not isinstance(item, (dict, list))]
        tables = [pd.DataFrame(pairs, columns=["key", "value"])] if pairs else []
        if all(isinstance(v, list) for v in values) and len({len(v) for v in values}) == 1:
            tables.append(pd.DataFrame(value))
        return tables + [t for v in values if isinstance(v, (dict, list)) for t in json_tables(v)][:20]
    if isinstance(value, list) and value and all(isinstance(v, list) for v in value):
        return [pd.DataFrame(value)]
    return []


def parse_tables(name, data):
    """Every table in a public file's bytes (as text cells); [] for what is not a table."""
    suffix = Path(name).suffix.lower()
    try:
        if suffix in (".csv", ".tsv", ".txt", ".tab"):
            sep = {".csv": ",", ".tsv": "\t", ".tab": "\t"}.get(suffix)
            return [pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False, sep=sep, engine="python" if sep is None else "c")]
        if suffix == ".json":
            return json_tables(json.loads(data))
        if suffix in (".jsonl", ".ndjson"):
            return [pd.read_json(io.BytesIO(data), lines=True)]
    except Exception:
        return []
    return []


def leaking_columns(table, answers, id_column, target, classify, test_order):
    """(column, how, agreement) for each column of `table` that gives the answers back, joined by a
    column holding the test ids or in the answers' (or test's) row order."""
    table = table.astype(str)
    ids, truth = answers[id_column], answers[target]
    found = []

    def judge(values, reference, how, column):
        if len(values) < COPY_MIN_ROWS or values.nunique() < 2:
            return
        share = copy_share(values.reset_index(drop=True), reference.reset_index(drop=True), classify)
        a, b = pd.to_numeric(values, errors="coerce"), pd.to_numeric(reference, errors="coerce")
        if not classify and a.notna().all() and b.notna().all() and a.nunique() >= COPY_MIN_ROWS and a.std() > 0 and b.std() > 0:
            share = max(share, abs(float(np.corrcoef(a, b)[0, 1])) >= AFFINE_CORRELATION)
        if share >= COPY_SHARE:
            found.append((column, how, round(float(share), 4)))

    wanted = set(ids)
    for key in table.columns:
        column = table[key]
        present = column[column.isin(wanted)]
        if len(present) < max(COPY_MIN_ROWS, len(wanted) // 2) or not present.is_unique:
            continue
        joined = table[column.isin(wanted)].merge(answers[[id_column, target]].rename(columns={id_column: "__id__", target: "__target__"}), left_on=key, right_on="__id__")
        for other in (c for c in table.columns if c != key):
            judge(joined[other], joined["__target__"], f"joined on {key!r}", other)
    if len(table) == len(answers):
        for order, reference in (("in the answers' row order", truth), ("in test.csv's row order", test_order)):
            if reference is None:
                continue
            for other in table.columns:
                judge(table[other], reference, order, other)
    return sorted(set(found))


def check_public_no_answers(pkg):
    answers, test = pkg.frame("answers.csv", True), pkg.frame("test.csv", True)
    if pkg.id not in answers.columns or pkg.target not in answers.columns or not answers[pkg.id].is_unique:
        raise NotRun("ids.unique")
    test_order = None
    if pkg.id in test.columns and set(test[pkg.id]) == set(answers[pkg.id]) and test[pkg.id].is_unique:
        test_order = answers.set_index(pkg.id)[pkg.target].loc[test[pkg.id]]
    classify, limit = pkg.kind() == "classification", decompressed_limit()
    leaks, refused, unread, checked = [], [], [], 0
    for path in sorted(p for p in (WORK / "public").rglob("*") if p.is_file()):
        relative = str(path.relative_to(WORK))
        try:
            members = [(path.name, None)] if path.name in PUBLIC_FILES and path.parent == WORK / "public" else public_members(path, limit)
        except TooLarge as exc:
            refused.append(f"{relative} ({exc})")
            continue
        except Exception as exc:
            unread.append(f"{relative} ({describe(exc)})")
            continue
        for name, data in members:
            tables = [pkg.frame(name, True)] if data is None else parse_tables(name, data)
            for table in tables:
                checked += 1
                for column, how, share in leaking_columns(table, answers, pkg.id, pkg.target, classify, test_order):
                    leaks.append(f"{relative}{'' if name == path.name else ':' + name} column {column!r} {how} ({share:.0%} agreement)")
    evidence = {"leaks": leaks[:20], "refused": refused, "notTables": unread[:20], "tablesChecked": checked}
    if refused:
        raise Failed(f"refused, not read: {', '.join(refused[:3])}; a public table must not expand past {limit >> 20} MiB (4 times raw/, at least {DECOMPRESSED_MIN_MB} MiB)", evidence)
    if leaks:
        raise Failed(f"public files give the answers back: {'; '.join(leaks[:3])}", evidence)
    return f"no column of {checked} public tables gives {pkg.target!r} back", evidence


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


def feature_table(train, columns):
    """Train's columns as numbers: numeric ones as they are, few-valued text ones as codes."""
    features = {}
    for column in columns:
        values = pd.to_numeric(train[column], errors="coerce")
        if values.notna().mean() >= 0.95:
            features[column] = values.fillna(values.median())
        elif train[column].nunique() <= 50:
            features[column] = pd.Series(pd.factorize(train[column])[0], index=train.index)
    return pd.DataFrame(features, index=train.index)  # no usable column: still one row per train row


def check_target_not_trivial(pkg):
    axis = forecast_axis(pkg)
    if axis:
        # the previous value predicting the next is what forecasting is: judge against naive forecasts instead
        return forecast_not_trivial(pkg, *axis)
    from sklearn.linear_model import LinearRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import PolynomialFeatures, StandardScaler
    from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

    train = pkg.frames["train.csv"]
    train = train[train[pkg.target].notna()]
    if len(train) > TRIVIAL_MAX_ROWS:
        train = train.sample(TRIVIAL_MAX_ROWS, random_state=0)
    classify = pkg.kind() == "classification"
    y = train[pkg.target].astype(str) if classify else pd.to_numeric(train[pkg.target], errors="coerce")
    x = feature_table(train, [c for c in train.columns if c not in (pkg.id, pkg.target)])
    keep = y.notna().to_numpy()
    x, y = x[keep], y[keep]
    if len(y) < 30 or y.nunique() < 2 or x.empty:
        return f"{len(y)} train rows and {x.shape[1]} usable columns: too few to test"
    tree = (DecisionTreeClassifier if classify else DecisionTreeRegressor)(max_depth=TRIVIAL_TREE_DEPTH, random_state=0)
    models = {f"a depth-{TRIVIAL_TREE_DEPTH} tree": tree}
    if not classify:
        models["a quadratic formula"] = make_pipeline(StandardScaler(), PolynomialFeatures(2), LinearRegression())
    skills = {}
    for column in x.columns:
        skills[(column,)] = max((held_out_skill(m, x[[column]], y, classify), n) for n, m in models.items())
    top = sorted(skills, key=lambda c: -skills[c][0])[:TRIVIAL_PAIR_COLUMNS]
    for i, a in enumerate(top):
        for b in top[i + 1 :]:
            pair = (a[0], b[0])
            skills[pair] = max((held_out_skill(m, x[list(pair)], y, classify), n) for n, m in models.items())
    best = max(skills, key=lambda c: skills[c][0])
    skill, model = skills[best]
    measure, limit = ("skill (accuracy above the majority class, scaled to 1)", TRIVIAL_SKILL) if classify else ("R²", TRIVIAL_R2)
    ranked = sorted(skills.items(), key=lambda kv: -kv[1][0])[:5]
    evidence = {"rows": len(y), "measure": measure, "limit": limit, "best": [{"columns": list(c), "model": n, "skill": round(s, 4)} for c, (s, n) in ranked]}
    if skill >= limit:
        raise Failed(f"{pkg.target!r} is trivially derivable from {', '.join(map(repr, best))}: {model} on them reaches held-out {measure} {skill:.3f} (limit {limit}); drop them or choose another target", evidence)
    return f"no one or two columns determine {pkg.target!r}: best held-out {measure} {skill:.2f} ({', '.join(best)}) < {limit}", evidence


def constant_prediction(pkg):
    """Everyone's first guess: the most common training label, or the training mean."""
    train = pkg.frames["train.csv"][pkg.target].dropna()
    n = len(pkg.frames["answers.csv"])
    if pkg.kind() == "classification":
        return pkg.submission(np.full(n, train.mode().iloc[0], dtype=object))
    return pkg.submission(np.full(n, float(pd.to_numeric(train, errors="coerce").mean())))


def noisy_answers(pkg, share, seed):
    """The answers with every value off by noise of `share` of their spread (kept within their range)."""
    y = pd.to_numeric(pkg.frames["answers.csv"][pkg.target], errors="coerce").to_numpy(dtype=float)
    spread = float(np.nanstd(y)) or 1.0
    noise = np.random.default_rng(seed).normal(0, share * spread, len(y))
    return pkg.submission(np.clip(y + noise, np.nanmin(y), np.nanmax(y)))


def check_metric_behaviour(pkg):
    pkg.need_metric_spec()
    perfect = pkg.need_score("perfect", "metric.perfect_answers")
    if not math.isfinite(perfect):
        raise NotRun("metric.perfect_answers")
    if pkg.frames["answers.csv"][pkg.target].nunique() < 2:
        return "the answers hold a single value: nothing to compare them with"
    variants = {"the answers shuffled": pkg.permuted, "a constant prediction": lambda: constant_prediction(pkg), "a quarter of the rows wrong": pkg.imperfect}
    regression = pkg.kind() == "regression"
    if regression:
        variants["every value off by 5% of the spread"] = lambda: noisy_answers(pkg, SMALL_NOISE, 3)
        variants["every value off by 50% of the spread"] = lambda: noisy_answers(pkg, LARGE_NOISE, 3)
    scores, rejected = {"the answers": perfect}, {}
    for name, build in variants.items():
        try:
            scores[name] = pkg.grade(build())
        except (NotRun, GradeTimeout):
            raise
        except Exception as exc:
            rejected[name] = describe(exc)
    evidence = {"scores": scores, "rejected": rejected, **({"bounds": pkg.bounds} if any(b is not None for b in pkg.bounds) else {})}
    problems = []
    if "the answers shuffled" in rejected:
        problems.append(f"the answers shuffled (a valid submission) do not grade: {rejected['the answers shuffled']}")
    for name in ("the answers shuffled", "a constant prediction", "a quarter of the rows wrong"):
        if name in scores and not better(pkg, perfect, scores[name]):
            problems.append(f"{name} scores {fmt(scores[name])}, no worse than the answers ({fmt(perfect)})")
    low, high = pkg.bounds
    outside = [f"{n} {fmt(s)}" for n, s in scores.items() if not math.isfinite(s) or (low is not None and s < low and not close(s, low)) or (high is not None and s > high and not close(s, high))]
    if outside:
        problems.append(f"scores outside the declared bounds {json.dumps(pkg.bounds)}: {', '.join(outside)}")
    small, large = (scores.get(f"every value off by {p}% of the spread") for p in (5, 50))
    if regression and small is not None and large is not None and not better(pkg, small, large):
        problems.append(f"it does not reward smaller errors (5% off scores {fmt(small)}, 50% off {fmt(large)}): it does not fit a regression task")
    if problems:
        raise Failed("; ".join(problems), evidence)
    return f"the answers ({fmt(perfect)}) beat every worse submission ({', '.join(f'{n} {fmt(s)}' for n, s in scores.items() if n != 'the answers')}) within the declared bounds", evidence


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
    if not pkg.need_metric().has_invalid_class:
        raise Failed("metric.py defines no InvalidSubmission exception class")
    outcomes, accepted = {}, []
    for name, variant in malformed_variants(pkg, pkg.perfect()).items():
        try:
            outcomes[name] = f"scored {fmt(pkg.grade(as_read(variant)))}"
        except MetricRaised as exc:
            outcomes[name] = f"rejected: {one_line(exc, 120)}" if exc.invalid else describe(exc)
            if exc.invalid:
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
            scores.append(pkg.grade(submission, seed))
        seen[name] = scores
        if not all(close(scores[0], s) for s in scores[1:]):
            differ.append(f"{name}: {', '.join(fmt(s) for s in scores)}")
    if differ:
        raise Failed(f"the same submission scored differently: {'; '.join(differ)}", seen)
    return f"three gradings of each submission scored the same ({', '.join(bases)})", seen


def check_package_contained(pkg):
    if not pkg.links:
        raise NotRun("prepare.runs")
    made = sorted(set(pkg.links[1]) | set(pkg.links[2]))
    if made:
        raise Failed(f"prepare.py made {len(made)} links or special files (removed, never followed): {', '.join(made[:5])}", {"made": made[:20]})
    if pkg.sealed is None:
        return "prepare.py made no links or special files"
    if pkg.metric:
        pkg.metric.stop()  # the grading child ends first: what it left is then final
    kill_package_processes()
    for sub in ("public", "private"):
        remove_links(WORK / sub)  # a link package code made later must not reach the host either
    now = output_hashes(WORK)
    changed = sorted(f for f in set(pkg.sealed) | set(now) if pkg.sealed.get(f) != now.get(f))
    if changed:
        raise Failed(f"package code changed prepare.py's outputs after it ended: {', '.join(changed[:5])}", {"changed": changed[:20]})
    return "prepare.py made no links or special files, and nothing changed its outputs afterwards"


# ---------------------------------------------------------------- forecasting

FUTURE_MATCH_SHARE = 0.9  # a feature equal to the target this many steps ahead on this share of rows reads the future
FUTURE_MIN_ROWS = 10
FUTURE_MAX_SHIFT = 60
NAIVE_EXACT = 0.01  # a naive forecast off by at most this share of the series' spread leaves nothing to learn


def forecast_axis(pkg):
    """(time column, series columns) of a forecasting task; None for other tasks."""
    if pkg.task_type != "forecasting":
        return None
    spec = pkg.forecast if isinstance(pkg.forecast, dict) else {}
    time, series = spec.get("time"), spec.get("series", [])
    if not isinstance(time, str) or not isinstance(series, list) or not all(isinstance(c, str) for c in series):
        raise Failed("a forecasting task's task.json needs forecast.time (the time column) and forecast.series (the columns naming each series, [] for one series)", {"forecast": pkg.forecast})
    return time, series


def timeline(frame, name, time, series):
    """The frame with `_series` (one text key per series) and `_time` (comparable numbers or datetimes), sorted."""
    missing = [c for c in [time, *series] if c not in frame.columns]
    if missing:
        raise Failed(f"{name} lacks {missing}: a forecasting task's train and test keep forecast.time and forecast.series", {"missing": missing})
    frame = frame.copy()
    numbers = pd.to_numeric(frame[time], errors="coerce")
    frame["_time"] = numbers if numbers.notna().all() else pd.to_datetime(frame[time].astype(str), errors="coerce")
    unreadable = frame[time][frame["_time"].isna()]
    if len(unreadable):
        raise Failed(f"{len(unreadable)} values of {time!r} in {name} are no times, e.g. {unreadable.head(3).tolist()}", {"examples": unreadable.head(5).tolist()})
    frame["_series"] = frame[series].astype(str).agg(" / ".join, axis=1) if series else ""
    return frame.sort_values(["_series", "_time"], kind="mergesort").reset_index(drop=True)


def check_forecast_time_split(pkg):
    axis = forecast_axis(pkg)
    if not axis:
        return "not a forecasting task: no time split to check"
    train = timeline(pkg.frames["train.csv"], "train.csv", *axis)
    test = timeline(pkg.frames["test.csv"], "test.csv", *axis)
    last = train.groupby("_series")["_time"].max()
    first = test.groupby("_series")["_time"].min()
    shared = first.index.intersection(last.index)
    early = [s for s in shared if first[s] <= last[s]]
    evidence = {"series": len(first), "trainEnds": str(train["_time"].max()), "testStarts": str(test["_time"].min())}
    if early:
        evidence["examples"] = [{"series": s, "testStarts": str(first[s]), "trainEnds": str(last[s])} for s in early[:5]]
        s = early[0]
        raise Failed(f"in {len(early)} of {len(first)} series a test time is not after every train time (series {s!r}: test from {first[s]}, train up to {last[s]}): split each series at a forecast origin", evidence)
    return f"in each of {len(first)} series every test time follows every train time (train up to {evidence['trainEnds']}, test from {evidence['testStarts']})", evidence


def future_reads(frame, column, truth, shifts):
    """(shift, share of rows) where `column` equals the series' target `shift` rows later, at the first shift that matches."""
    values = pd.to_numeric(frame[column], errors="coerce")
    for shift in shifts:
        ahead = truth.groupby(frame["_series"]).shift(-shift)
        both = values.notna() & ahead.notna()
        if both.sum() < FUTURE_MIN_ROWS:
            continue
        share = float(np.isclose(values[both], ahead[both], rtol=1e-6, atol=1e-9).mean())
        if share >= FUTURE_MATCH_SHARE:
            return shift, round(share, 4)
    return None


def check_forecast_no_future_features(pkg):
    axis = forecast_axis(pkg)
    if not axis:
        return "not a forecasting task: no features to date"
    time, series = axis
    skip = {pkg.id, pkg.target, time, *series}
    train = timeline(pkg.frames["train.csv"], "train.csv", *axis)
    test = timeline(pkg.frames["test.csv"], "test.csv", *axis)
    answers = pkg.frames["answers.csv"][[pkg.id, pkg.target]]
    test = test.merge(answers, on=pkg.id, how="left", suffixes=("", "__truth")).sort_values(["_series", "_time"], kind="mergesort")
    truth_column = pkg.target if pkg.target not in pkg.frames["test.csv"].columns else pkg.target + "__truth"
    features = [c for c in pkg.frames["train.csv"].columns if c not in skip and pd.to_numeric(pkg.frames["train.csv"][c], errors="coerce").notna().mean() >= 0.95]
    if not features:
        return f"train.csv holds no numeric feature beside the id, {', '.join(map(repr, [*series, time]))} and the target: nothing can read the future"
    shifts = range(1, min(FUTURE_MAX_SHIFT, len(train)) + 1)
    reads = []
    for column in features:
        found = future_reads(train, column, pd.to_numeric(train[pkg.target], errors="coerce"), shifts)
        if found:
            reads.append({"file": "train.csv", "column": column, "stepsAhead": found[0], "share": found[1]})
        if column in test.columns:
            # in test every target value lies after the forecast origin: a feature that holds any of them reads the future
            found = future_reads(test, column, pd.to_numeric(test[truth_column], errors="coerce"), [0, *[-s for s in shifts], *shifts])
            if found:
                reads.append({"file": "test.csv", "column": column, "stepsAhead": found[0], "share": found[1]})
    evidence = {"features": features, "reads": reads}
    if reads:
        first = reads[0]
        where = f"the target {first['stepsAhead']} steps later" if first["file"] == "train.csv" else f"test-period values of the target (shifted {first['stepsAhead']} steps)"
        raise Failed(f"{first['column']!r} in {first['file']} equals {where} on {first['share']:.0%} of rows: a lag or rolling feature must use only values up to the forecast origin; compute it from train alone (or drop it)", evidence)
    return f"none of {', '.join(map(repr, features))} equals the target of a later time of its series", evidence


def steps_per_season(times):
    """Steps per season from the typical spacing of the times (1 when unknown)."""
    if not pd.api.types.is_datetime64_any_dtype(times):
        return 1
    days = pd.Series(times.unique()).sort_values().diff().dt.total_seconds().median() / 86400
    for limit, season in ((0.5, 24), (3, 7), (10, 52), (45, 12), (120, 4)):
        if days < limit:
            return season
    return 1


def forecast_not_trivial(pkg, time, series):
    train = timeline(pkg.frames["train.csv"], "train.csv", time, series)
    test = timeline(pkg.frames["test.csv"], "test.csv", time, series).merge(pkg.frames["answers.csv"][[pkg.id, pkg.target]], on=pkg.id, suffixes=("_x", ""))
    y = pd.to_numeric(train[pkg.target], errors="coerce")
    truth = pd.to_numeric(test[pkg.target], errors="coerce")
    spread = float(y.std())
    if len(y.dropna()) < 10 or not spread > 0 or truth.isna().all():
        return f"{len(y.dropna())} train values with spread {spread:.3g}: too few to judge"
    season = steps_per_season(train["_time"])
    histories = {k: v.dropna().to_numpy() for k, v in y.groupby(train["_series"])}
    forecasts = {"naive (the last train value)": [], f"seasonal naive ({season} steps back)": []}
    kept = []
    for key, rows in test.groupby("_series", sort=False):
        past = histories.get(key)
        if past is None or len(past) == 0:
            continue
        for step in range(len(rows)):
            forecasts["naive (the last train value)"].append(past[-1])
            back = len(past) - season + (step % season)
            forecasts[f"seasonal naive ({season} steps back)"].append(past[back] if season > 1 and 0 <= back < len(past) else past[-1])
        kept.extend(rows.index)
    truth = truth.loc[kept].to_numpy(dtype=float)
    errors = {n: float(np.nanmean(np.abs(truth - np.array(f)))) for n, f in forecasts.items()}
    best = min(errors, key=errors.get)
    evidence = {"meanAbsoluteErrors": {n: round(e, 6) for n, e in errors.items()}, "trainSpread": round(spread, 6), "limit": NAIVE_EXACT}
    if errors[best] <= NAIVE_EXACT * spread:
        raise Failed(f"{pkg.target!r} is trivially forecast: the {best} is off by {errors[best]:.3g} on average, {errors[best] / spread:.2%} of the series' spread (limit {NAIVE_EXACT:.0%}); choose a target that changes", evidence)
    return f"the best naive forecast, {best}, is off by {errors[best]:.3g} on average ({errors[best] / spread:.0%} of the series' spread): something to learn", evidence


# ---------------------------------------------------------------- main

# (name, check, whether it needs prepare.runs to have passed), in the order of CHECKS.assertions.
CHECKS = [
    ("files.present", check_files_present, False),
    ("description.sections", check_description_sections, False),
    ("prepare.runs", check_prepare_runs, False),
    ("prepare.deterministic", check_prepare_deterministic, True),
    ("test.no_target", check_test_no_target, True),
    ("public.no_answers", check_public_no_answers, True),
    ("ids.unique", check_ids_unique, True),
    ("ids.aligned", check_ids_aligned, True),
    ("split.no_row_leak", check_split_no_row_leak, True),
    ("id.not_predictive", check_id_not_predictive, True),
    ("target.not_trivial", check_target_not_trivial, True),
    ("forecast.time_split", check_forecast_time_split, True),
    ("forecast.no_future_features", check_forecast_no_future_features, True),
    ("sample.columns", check_sample_columns, True),
    ("metric.perfect_answers", check_metric_perfect_answers, True),
    ("metric.sample_valid", check_metric_sample_valid, True),
    ("metric.direction", check_metric_direction, True),
    ("metric.behaviour", check_metric_behaviour, True),
    ("metric.order_invariant", check_metric_order_invariant, True),
    ("metric.rejects_malformed", check_metric_rejects_malformed, True),
    ("metric.deterministic", check_metric_deterministic, True),
    ("package.contained", check_package_contained, False),
]


def main():
    report = Report(isolate())
    pkg = Package()
    try:
        for name, check, needs_prepared in CHECKS:

            def attempt(check=check, needs_prepared=needs_prepared):
                if needs_prepared and not report.passed("prepare.runs"):
                    raise NotRun("prepare.runs")
                return check(pkg)

            report.record(run_check(name, attempt))
    finally:
        if pkg.metric:
            pkg.metric.stop()
        kill_package_processes()


if __name__ == "__main__":
    main()
