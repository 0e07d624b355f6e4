"""One lane of the reference ladder: runs the rung scripts in /workspace/rungs one after another in one container.

Imports the ML stack once, then forks a child per rung (a rung's `python3 rung.py` would import it again).
Each child runs its script as __main__ with cwd /workspace, its output in /workspace/logs/RUNG.log, and
dies with every process it started after ANVIL_RUNG_TIMEOUT_S seconds. What it wrote as
/workspace/submission.csv moves to /workspace/out/RUNG.csv. After each rung one JSON line goes to
/workspace/results.jsonl: {"rung", "exit" (or null), "signal" (or null), "timedOut", "wallMs", "cpuMs"}, so a lane
whose container dies still leaves the rungs it finished. A child volunteers for the OOM killer first.
"""
import os
import signal
import sys
import time

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[var] = "1"  # no thread pool may exist before fork

import json  # noqa: E402
import runpy  # noqa: E402
import traceback  # noqa: E402

import numpy  # noqa: E402,F401  (imported once for every rung)
import pandas  # noqa: E402,F401
import sklearn.ensemble  # noqa: E402,F401
import sklearn.feature_selection  # noqa: E402,F401
import sklearn.linear_model  # noqa: E402,F401
import sklearn.naive_bayes  # noqa: E402,F401
import sklearn.neighbors  # noqa: E402,F401
import sklearn.tree  # noqa: E402,F401

TIMEOUT_S = float(os.environ.get("ANVIL_RUNG_TIMEOUT_S", "180"))
WORKSPACE = "/workspace"
SUBMISSION = os.path.join(WORKSPACE, "submission.csv")


def run_child(script, log):
    """In the forked child: the rung's script as __main__, its exit status the process's."""
    os.setsid()
    try:
        with open("/proc/self/oom_score_adj", "w") as f:
            f.write("1000")
    except OSError:
        pass
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    sys.argv = [script]
    code = 0
    try:
        runpy.run_path(script, run_name="__main__")
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
        if not isinstance(e.code, int) and e.code is not None:
            print(e.code, file=sys.stderr)
    except BaseException:
        traceback.print_exc()
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def run_rung(name):
    script = os.path.join(WORKSPACE, "rungs", name + ".py")
    log = os.path.join(WORKSPACE, "logs", name + ".log")
    if os.path.exists(SUBMISSION):
        os.remove(SUBMISSION)
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:
        os.chdir(WORKSPACE)
        run_child(script, log)
    timed_out, status, usage = False, None, None
    while status is None:
        done, raw, usage = os.wait4(pid, os.WNOHANG)
        if done:
            status = raw
        elif time.monotonic() - started > TIMEOUT_S:
            timed_out = True
            os.killpg(pid, signal.SIGKILL)
            status, usage = os.wait4(pid, 0)[1:]
        else:
            time.sleep(0.02)
    try:
        os.killpg(pid, signal.SIGKILL)  # whatever the rung left running
    except ProcessLookupError:
        pass
    if os.path.exists(SUBMISSION):
        os.replace(SUBMISSION, os.path.join(WORKSPACE, "out", name + ".csv"))
    return {
        "rung": name,
        "exit": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
        "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
        "timedOut": timed_out,
        "wallMs": round((time.monotonic() - started) * 1000),
        "cpuMs": round((usage.ru_utime + usage.ru_stime) * 1000),
    }


with open(os.path.join(WORKSPACE, "results.jsonl"), "a") as results:
    for rung in sorted(f[: -len(".py")] for f in os.listdir(os.path.join(WORKSPACE, "rungs")) if f.endswith(".py")):
        results.write(json.dumps(run_rung(rung)) + "\n")
        results.flush()
