"""Stand-ins for the helpers that MLE-bench and MLE-Dojo competition code imports, plus the glue that
runs such code as an Anvil task package.

`anvil import` embeds this file into every converted prepare.py and metric.py: the sandbox has
pandas, numpy, scipy and scikit-learn but no `mlebench` or `mledojo` package, and metric.py must be
self-contained (only it and answers.csv reach the grading container). `install()` registers the
modules the competition code imports (`mlebench.utils`, `mlebench.grade_helpers`,
`mlebench.competitions.utils`, `mledojo.metrics.base`, ...) with the names that package/import/shim.ts
lists in SHIM_MODULES; the converter refuses code that imports anything else from them.

The helpers behave like the originals where competition code can tell the difference: the same
arguments, return values and InvalidSubmissionError cases. Archive formats beyond zip, tar and gzip
need their own packages (py7zr) and fail with a message saying so. Unlike the originals, extract()
is bounded: an archive that would unpack past its limits is refused, not read (ArchiveTooLarge).
"""
import importlib.abc
import importlib.util
import logging
import os
import shutil
import sys
import tarfile
import tempfile
import time
import types
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

# ------------------------------------------------------------------ exceptions and base classes


class InvalidSubmissionError(Exception):
    """The submission cannot be graded (mlebench.grade_helpers and mledojo.metrics.base)."""


class CompetitionMetrics:
    """MLE-Dojo's metric base class: evaluate(y_true, y_pred) and validate_submission(submission, ground_truth)."""

    subclasses = []

    def __init__(self, higher_is_better=True):
        self.higher_is_better = higher_is_better

    def evaluate(self, y_true, y_pred):
        raise NotImplementedError

    def validate_submission(self, submission, ground_truth):
        raise NotImplementedError

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        CompetitionMetrics.subclasses.append(cls)


# What a grader raises when a submission is malformed (NaN, text for numbers, missing ids or columns).
# Both benchmarks count any failure to grade as an invalid submission; these exclude the harness's
# own interruptions (timeouts) and exhausted resources.
SUBMISSION_ERRORS = (AssertionError, ArithmeticError, AttributeError, LookupError, TypeError, ValueError)

# ------------------------------------------------------------------ files (mlebench.utils)


def get_logger(name, level=logging.INFO, filename=None):
    logging.basicConfig(level=level, format="[%(asctime)s] [%(filename)s:%(lineno)d] %(message)s", filename=filename)
    return logging.getLogger(name)


logger = get_logger("mlebench_shim")


def read_csv(*args, **kwargs):
    """pd.read_csv that keeps floats exact by default; an empty file gives an empty frame."""
    try:
        return pd.read_csv(*args, **{"float_precision": "round_trip", **kwargs})
    except pd.errors.EmptyDataError:
        logger.warning("CSV file empty: %s", args[0] if args else kwargs.get("filepath_or_buffer"))
        return pd.DataFrame()


def read_jsonl(file_path, skip_commented_out_lines=False):
    import json

    rows = []
    with open(file_path) as f:
        for line in f:
            text = line.strip()
            if skip_commented_out_lines and (not text or text.startswith("#") or text.startswith("//")):
                continue
            rows.append(json.loads(line))
    return rows


def load_answers(path_to_answers):
    path = Path(path_to_answers)
    if path.suffix == ".csv":
        return read_csv(path)
    if path.suffix == ".jsonl":
        return read_jsonl(str(path))
    raise ValueError(f"Unsupported file format for answers: {path}")


def _archive_kind(path):
    path = Path(path)
    return ".tar.gz" if path.suffixes[-2:] == [".tar", ".gz"] else path.suffix


def is_compressed(fpath):
    return _archive_kind(fpath) in {".zip", ".tar", ".gz", ".tgz", ".tar.gz", ".rar", ".7z"}


def _py7zr(path):
    try:
        import py7zr
    except ImportError:
        raise RuntimeError(f"{path} is a 7z archive and the sandbox has no py7zr: unpack it into the raw data folder before importing") from None
    return py7zr


# What one extract() call (nested archives included) may unpack: bytes and entries. Each archive's
# declared sizes are checked before anything is written, and every byte is counted as it is written,
# so an archive that lies about its sizes is stopped at the limit too.
EXTRACT_MAX_BYTES = int(os.environ.get("ANVIL_EXTRACT_MAX_MB", "4096")) << 20
EXTRACT_MAX_ENTRIES = int(os.environ.get("ANVIL_EXTRACT_MAX_ENTRIES", "1000000"))


class ArchiveTooLarge(RuntimeError):
    """An archive would unpack past the extraction limits; nothing more of it is read."""


class _Budget:
    """Bytes and entries left to one extract() call; refuses what would exceed them."""

    def __init__(self):
        self.bytes, self.entries = EXTRACT_MAX_BYTES, EXTRACT_MAX_ENTRIES

    def refuse(self, archive, why):
        raise ArchiveTooLarge(
            f"{archive} {why}: refused, not unpacked (limits {EXTRACT_MAX_BYTES >> 20} MiB and {EXTRACT_MAX_ENTRIES} "
            "entries per extract, ANVIL_EXTRACT_MAX_MB and ANVIL_EXTRACT_MAX_ENTRIES); unpack it into the raw data folder "
            "before importing if it is genuine"
        )

    def declare(self, archive, entries, size):
        if entries > self.entries:
            self.refuse(archive, f"holds {entries} entries, over the {self.entries} left")
        if size > self.bytes:
            self.refuse(archive, f"declares {size >> 20} MiB unpacked, over the {self.bytes >> 20} MiB left")

    def copy(self, archive, stream, path):
        """Writes stream to path, stopping (and removing path) as soon as it passes the bytes left."""
        self.declare(archive, 1, 0)
        self.entries -= 1
        try:
            with open(path, "wb") as out:
                while chunk := stream.read(1 << 20):
                    if len(chunk) > self.bytes:
                        self.refuse(archive, f"unpacks past the {EXTRACT_MAX_BYTES >> 20} MiB limit")
                    self.bytes -= len(chunk)
                    out.write(chunk)
        except ArchiveTooLarge:
            path.unlink(missing_ok=True)
            raise


def _inside(dst, name, archive):
    """dst/name, refusing names that lead outside dst (absolute, `..`); a link already there (the
    scratch view of raw is made of links) is removed, never written through."""
    path = Path(os.path.normpath(dst / name))
    if path != dst and dst not in path.parents:
        raise ValueError(f"{archive} has an entry {name!r} outside the folder it unpacks into: refused")
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.is_symlink():
        path.unlink()
    return path


def _extract_zip(compressed, dst, budget):
    with zipfile.ZipFile(compressed) as archive:
        infos = archive.infolist()
        budget.declare(compressed, len(infos), sum(i.file_size for i in infos))
        for info in infos:
            path = _inside(dst, info.filename, compressed)
            if info.is_dir():
                path.mkdir(parents=True, exist_ok=True)
                continue
            with archive.open(info) as stream:
                budget.copy(compressed, stream, path)


def _extract_tar(compressed, dst, budget):
    # Read as a stream: a compressed tar is never decompressed further than the entry being written.
    with tarfile.open(compressed, "r|*") as archive:
        for member in archive:
            path = _inside(dst, member.name, compressed)
            if member.isdir():
                path.mkdir(parents=True, exist_ok=True)
            elif member.isfile():
                budget.declare(compressed, 1, member.size)
                budget.copy(compressed, archive.extractfile(member), path)
            else:
                raise ValueError(f"{compressed} has an entry {member.name!r} that is a link or a device: refused")


def _holds_tar(compressed):
    """Whether a .gz file is a tar with at least one entry (a block of zeros reads as an empty tar)."""
    try:
        with tarfile.open(compressed, "r|gz") as archive:
            return archive.next() is not None
    except (tarfile.TarError, OSError, EOFError):
        return False


def _extract_gzip(compressed, dst, budget):
    import gzip

    with gzip.open(compressed, "rb") as stream:
        budget.copy(compressed, stream, _inside(dst, Path(compressed).stem, compressed))


def extract(compressed, dst, recursive=False, already_extracted=None, _budget=None):
    """Unpacks an archive into dst; with recursive, also the archives it contained. Refuses
    (ArchiveTooLarge) an archive that would unpack past EXTRACT_MAX_BYTES or EXTRACT_MAX_ENTRIES, all
    nested archives together, and entries outside dst or that are links."""
    compressed, dst = Path(compressed), Path(dst)
    already_extracted = set() if already_extracted is None else already_extracted
    budget = _budget or _Budget()
    assert compressed.is_file(), f"File `{compressed}` does not exist."
    dst.mkdir(parents=True, exist_ok=True)
    dst = dst.resolve()
    kind = _archive_kind(compressed)
    if kind == ".zip":
        _extract_zip(compressed, dst, budget)
    elif kind in {".tar", ".tar.gz", ".tgz"} or (kind == ".gz" and _holds_tar(compressed)):
        _extract_tar(compressed, dst, budget)
    elif kind == ".gz":
        _extract_gzip(compressed, dst, budget)
    elif kind == ".7z":
        with _py7zr(compressed).SevenZipFile(compressed, mode="r") as archive:
            files = archive.list()
            budget.declare(compressed, len(files), sum(f.uncompressed or 0 for f in files))
            archive.extractall(dst)
    else:
        raise NotImplementedError(f"Unsupported compression format: `{kind}`.")
    already_extracted.add(compressed)
    if recursive:
        nested = {p for p in set(dst.iterdir()) - already_extracted if is_compressed(p)}
        already_extracted.update(nested)
        for path in nested:
            extract(path, path.parent, recursive=True, already_extracted=already_extracted, _budget=budget)


def compress(src, compressed, exist_ok=False):
    src, compressed = Path(src), Path(compressed)
    assert src.is_dir(), f"Expected a directory, but got `{src}`."
    assert exist_ok or not compressed.exists(), f"Compressed file `{compressed}` already exists."
    files = [p for p in src.rglob("*") if p.is_file()]
    if compressed.suffix == ".zip":
        with zipfile.ZipFile(compressed, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in files:
                archive.write(path, arcname=path.relative_to(src))
    elif compressed.suffix == ".7z":
        with _py7zr(compressed).SevenZipFile(compressed, "w") as archive:
            for path in files:
                archive.write(path, arcname=path.relative_to(src))
    else:
        raise NotImplementedError(f"Unsupported compression format: `{compressed.suffix}`.")


def is_empty(dir):
    return not any(Path(dir).iterdir())


def get_timestamp():
    return time.strftime("%Y-%m-%dT%H-%M-%S-%Z", time.gmtime())


# ------------------------------------------------------------------ grading helpers (mlebench.competitions.utils)


def df_to_one_hot(df, id_column, target_column, classes):
    """One row per row of df: its id, then 1 in its class's column and 0 elsewhere."""
    one_hot = pd.DataFrame(0, index=df.index, columns=[id_column] + list(classes))
    one_hot[id_column] = df[id_column]
    for index, label in df[target_column].items():
        one_hot.loc[index, label] = 1
    return one_hot


def is_one_hot_encoded(xs):
    assert isinstance(xs, np.ndarray) and xs.ndim == 2, f"Expected a 2D NumPy array, got {type(xs)}."
    return bool(np.isin(xs, (0, 1)).all() and np.allclose(xs.sum(axis=-1), 1))


def one_hot_dfs_to_log_loss_inputs(submission_one_hot, answers_one_hot, id_column="id", apply_softmax=True):
    """y_true and y_pred for log loss, rows aligned by id and columns in the answers' order."""
    missing = set(answers_one_hot.columns) - set(submission_one_hot.columns)
    if missing:
        raise InvalidSubmissionError(f"The submission DataFrame is missing some columns required by the `answers` DataFrame. Missing columns: {missing}.")
    if id_column not in submission_one_hot.columns:
        raise InvalidSubmissionError(f"Submission is missing id column '{id_column}'.")
    assert id_column in answers_one_hot.columns, f"Answers is missing id column '{id_column}'."
    submission = submission_one_hot[list(answers_one_hot.columns)].sort_values(by=id_column).reset_index(drop=True)
    answers = answers_one_hot.sort_values(by=id_column).reset_index(drop=True)
    # MLE-bench asserts this; a submission's wrong ids are the submitter's mistake, so say it as one.
    if submission[id_column].tolist() != answers[id_column].tolist():
        mismatched = len(set(submission[id_column]) ^ set(answers[id_column]))
        raise InvalidSubmissionError(f"Mismatch in {id_column}s between `submission` and `answers`: {mismatched} mismatched {id_column}s.")
    y_true = answers.drop(columns=[id_column]).to_numpy()
    y_pred = submission.drop(columns=[id_column]).to_numpy()
    if apply_softmax and not is_one_hot_encoded(y_pred):
        from scipy.special import softmax

        y_pred = softmax(y_pred, axis=-1)
    return {"y_true": y_true, "y_pred": y_pred}


def rle_decode(rle_string, height, width):
    """A run-length string (1-indexed start, length pairs, top to bottom then left to right) as a boolean mask."""
    assert isinstance(rle_string, str), f"Expected a string, but got {type(rle_string)}: {rle_string}"
    assert isinstance(height, int) and isinstance(width, int), "height and width must be integers"
    mask = np.zeros(height * width, dtype=bool)
    numbers = [int(n) for n in rle_string.split()]
    starts, lengths = numbers[0::2], numbers[1::2]
    assert starts == sorted(starts), "The pairs in the RLE string must be sorted."
    assert all(n > 0 for n in starts + lengths), "All pairs in the RLE string must be positive integers."
    for start, length in zip(starts, lengths):
        assert not mask[start - 1 : start - 1 + length].any(), "Overlapping RLE pairs are not allowed."
        mask[start - 1 : start - 1 + length] = True
    return mask.reshape((width, height)).T


def rle_encode(x, fg_val=1):
    """The run-length list [start, length, ...] (1-indexed, top to bottom then left to right) of x == fg_val."""
    runs = []
    previous = -2
    for position in np.where(x.T.flatten() == fg_val)[0]:
        if position > previous + 1:
            runs.extend((int(position) + 1, 0))
        runs[-1] += 1
        previous = position
    return runs


def rles_to_masks(rl_encodings, image_heights, image_widths):
    return [rle_decode(e, height=h, width=w) for e, h, w in zip(rl_encodings, image_heights, image_widths)]


def _aligned(submission, answers, id_column, target_column, problem):
    """Checks the submission's shape and returns both frames sorted by id."""
    if len(submission) != len(answers):
        raise InvalidSubmissionError(problem["length"])
    for column, message in ((target_column, problem["target"]), (id_column, problem["id"])):
        if column not in submission.columns:
            raise InvalidSubmissionError(message)
    submission, answers = submission.sort_values(id_column), answers.sort_values(id_column)
    if (submission[id_column].values != answers[id_column].values).any():
        raise InvalidSubmissionError(problem["ids"])
    return submission, answers


def prepare_for_accuracy_metric(submission, answers, target_column, id_column):
    assert target_column in answers.columns, f"Answers must have a `{target_column}` column"
    assert id_column in answers.columns, f"Answers must have a `{id_column}` column"
    submission, answers = _aligned(submission, answers, id_column, target_column, {
        "length": "Submission must have the same length as the answers.",
        "target": f"Submission must have a `{target_column}` column",
        "id": f"Submission must have a `{id_column}` column",
        "ids": f"Submission and Answers `{id_column}`'s do not match",
    })
    return {"y_true": answers[target_column].to_numpy(), "y_pred": submission[target_column].to_numpy()}


def prepare_for_auroc_metric(submission, answers, id_col, target_col):
    assert id_col in answers.columns, f"answers dataframe should have an {id_col} column"
    assert target_col in answers.columns, f"answers dataframe should have a {target_col} column"
    if id_col not in submission.columns:
        raise InvalidSubmissionError(f"Submission should have an {id_col} column")
    if target_col not in submission.columns:
        raise InvalidSubmissionError(f"Submission should have a {target_col} column")
    if len(submission) != len(answers):
        raise InvalidSubmissionError("Submission and answers should have the same number of rows")
    try:
        scores = pd.to_numeric(submission[target_col])
    except ValueError:
        raise InvalidSubmissionError(f"Expected {target_col} column to be numeric, got {submission[target_col].dtype} instead") from None
    if scores.min() < 0 or scores.max() > 1:
        raise InvalidSubmissionError(f"Submission {target_col} column should contain probabilities, and therefore contain values between 0 and 1 inclusive")
    submission, answers = submission.sort_values(id_col), answers.sort_values(id_col)
    if (submission[id_col].values != answers[id_col].values).any():
        raise InvalidSubmissionError(f"Submission and answers should have the same {id_col} values")
    return {"y_true": answers[target_col].to_numpy(), "y_score": submission[target_col].to_numpy()}


# ------------------------------------------------------------------ tqdm, when the sandbox lacks it


class _QuietProgress:
    """tqdm's surface without the bar: iterate, use as a context manager, update, close."""

    def __init__(self, iterable=None, *args, **kwargs):
        self.iterable = iterable

    def __iter__(self):
        return iter(self.iterable if self.iterable is not None else ())

    def __len__(self):
        return len(self.iterable)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def __getattr__(self, name):  # update, close, set_description, set_postfix, refresh, ...
        if name.startswith("__"):
            raise AttributeError(name)
        return lambda *args, **kwargs: None


tqdm = _QuietProgress


# ------------------------------------------------------------------ installing the stand-in modules


def _stand_in_module(name):
    """sys.modules[name] as an (empty) stand-in package, with its parents, made if need be."""
    parent = None
    parts = name.split(".")
    for depth in range(1, len(parts) + 1):
        path = ".".join(parts[:depth])
        module = sys.modules.get(path)
        if not getattr(module, "__anvil_stand_in__", False):
            module = types.ModuleType(path)
            module.__path__ = []
            module.__anvil_stand_in__ = True
            sys.modules[path] = module
        if parent is not None:
            setattr(parent, parts[depth - 1], module)
        parent = module
    return parent


class _EmbeddedSources(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Serves the competition's sibling modules (its `from .classes import ...`) from their embedded text."""

    def __init__(self, package, sources):
        self.package, self.sources = package, sources

    def find_spec(self, fullname, path=None, target=None):
        if fullname == self.package or fullname in self.sources:
            return importlib.util.spec_from_loader(fullname, self, is_package=fullname == self.package)
        return None

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        if module.__name__ in self.sources:
            filename = module.__name__.rsplit(".", 1)[-1] + ".py"
            exec(compile(self.sources[module.__name__], filename, "exec"), module.__dict__)


def _missing(top_level):
    """Whether the sandbox lacks a real top-level module (one of our stand-ins does not count)."""
    if top_level in sys.modules:
        return getattr(sys.modules[top_level], "__anvil_stand_in__", False)
    return importlib.util.find_spec(top_level) is None


def install(exports, fallbacks=None, local_package=None, local_sources=None):
    """Registers the stand-in modules: exports {module: [names]} always (they shadow a real mlebench),
    fallbacks {module: [names]} only where the real module is missing, and the embedded sibling
    modules of the competition under local_package."""
    for modules, always in ((exports, True), (fallbacks or {}, False)):
        for name, names in modules.items():
            if not always and not _missing(name.split(".")[0]):
                continue
            module = _stand_in_module(name)
            for attribute in names:
                setattr(module, attribute, globals()[attribute])
    if local_sources:
        sys.meta_path.insert(0, _EmbeddedSources(local_package, local_sources))


# ------------------------------------------------------------------ running a competition's prepare as Anvil's


def _materialize_links(root):
    """Replaces every symbolic link under root by a copy of what it points to."""
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(folder) / name
            if not path.is_symlink():
                continue
            target = path.resolve()
            path.unlink()
            if target.is_dir():
                shutil.copytree(target, path)
            else:
                shutil.copyfile(target, path)


def run_prepare(prepare_fn, raw, public, private, answers, sample_submission="sample_submission.csv", keywords=True):
    """Runs a competition's own prepare function as Anvil's prepare(raw, public, private).

    The original gets a scratch view of raw (a tree of links to its files): the sandbox mounts raw
    read-only, and original preparers unpack archives into raw or delete it when done. Whatever
    links it moved into public or private become real files. Then its answers file (`answers`,
    relative to private) becomes private/answers.csv, and its sample submission, if named
    otherwise, is copied to public/sample_submission.csv.
    """
    raw, public, private = Path(raw).resolve(), Path(public), Path(private)
    public.mkdir(parents=True, exist_ok=True)
    private.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".anvil-raw-", dir=private.parent))
    try:
        view = scratch / "raw"
        shutil.copytree(raw, view, copy_function=os.symlink)
        if keywords:
            prepare_fn(raw=view, public=public, private=private)
        else:
            prepare_fn(view, public, private)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    _materialize_links(public)
    _materialize_links(private)
    written = private / answers
    if answers != "answers.csv":
        if not written.is_file():
            raise FileNotFoundError(f"the competition's prepare wrote no private/{answers}, the answers file its grader reads")
        os.replace(written, private / "answers.csv")
    if sample_submission != "sample_submission.csv" and (public / sample_submission).is_file():
        shutil.copyfile(public / sample_submission, public / "sample_submission.csv")
