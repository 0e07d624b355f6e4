"""The warm interpreter of a Dojo session: imports the ML stack once, then forks a fresh child per step.

Started by the worker as the sandbox user (python3 -I fork_server.py SOCKET) with ANVIL_STEP_TOKEN in
its environment. Each step is one connection, newline-delimited JSON:
  worker -> {"token", "path", "timeoutS", "memoryMb", "outputBytes"}
                                     server -> {"started": true} (or {"error"}), then the run's result
  worker -> {"next": token for the next step}                server -> {"ok": true}
A connection that never says "started" ran nothing: the worker may run the step another way.

Step semantics stay those of `python3 main.py`: the child gets a fresh __main__, cwd /workspace, its
own stdout/stderr, the step's CPU limit, and dies with every process it started; only files persist.
Memory: the container's cgroup holds the session's limit (the step, not the server, is what its OOM
killer takes); the child's address space may also grow by at most that limit past what it inherited
(RLIMIT_AS), so a step that reserves more (a huge np.empty, an mmap) gets a MemoryError, not a host's
worth of virtual memory. Seeds: `random` and numpy are reseeded per step, but str hashing is not:
CPython draws its hash secret once, when the server starts, and cannot change it in a child (every
dict the child inherited is keyed by it). So hash("x") and the iteration order of a set of strings
are the same in every step the same server runs (as if PYTHONHASHSEED were fixed for it), and change
when the server is restarted (a reset, a fallback). Code that needs its own seed sets it explicitly.

Each step's child is forked ahead (a fork copies the server's page tables, tens of milliseconds on a
loaded host), once the step before has ended and its token is rotated, and waits for its step; the
server returns a step's result once the child has sent its exit status, not once the kernel has
freed the child's memory, and the sweep counts a process that is past freeing it as gone.

Why the token (agent code runs as this same uid): the child of step k inherits the server's memory,
so it may know token k, never token k+1, which the worker sends only after step k's processes are
all dead. A request is served only with the current token, which is void from the moment a step
starts until the worker rotates it: a connection agent code left queued cannot run anything, and a
worker that sees no rotation ack trusts this server no more (it sweeps and restarts it). The server
is non-dumpable, so agent code cannot read or patch its memory or file descriptors either.
"""

import ctypes
import gc
import hmac
import json
import os
import select
import signal
import socket
import sys
import time

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[var] = "1"  # no thread pool may exist before fork
ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE 0: no ptrace, /proc/PID/mem or pidfd_getfd
TOKEN = [os.environ.pop("ANVIL_STEP_TOKEN")]
SANDBOX_UID = os.getuid()

try:  # the ML stack agents import; a step that uses it starts with it loaded
    import numpy
    import pandas  # noqa: F401
    import sklearn.ensemble  # noqa: F401
    import sklearn.linear_model  # noqa: F401
    import sklearn.metrics  # noqa: F401
    import sklearn.model_selection  # noqa: F401
    import sklearn.preprocessing  # noqa: F401
except ImportError:
    numpy = None
if len(os.listdir("/proc/self/task")) != 1:
    sys.exit("fork_server: a thread started during the imports; forking now would be unsafe")
# The imported heap leaves the collector's view: a step's garbage collections would otherwise walk
# (and write to) every object it inherited, copying the server's whole heap page by page.
gc.collect()
gc.freeze()


class Capped:
    """The first and last halves of a stream up to `cap` bytes (as sandbox/capped-output.ts)."""

    def __init__(self, cap):
        self.cap, self.total, self.head, self.tail = cap, 0, bytearray(), bytearray()

    def write(self, chunk):
        self.total += len(chunk)
        room = self.cap // 2 - len(self.head)
        if room > 0:
            self.head += chunk[:room]
            chunk = chunk[room:]
        self.tail += chunk
        keep = self.cap - self.cap // 2
        if len(self.tail) > 2 * keep:
            del self.tail[:-keep]

    def text(self):
        head = self.head.decode("utf-8", "replace")
        if self.total <= self.cap:
            return head + self.tail.decode("utf-8", "replace")
        tail = self.tail[-(self.cap - self.cap // 2):]
        omitted = self.total - len(self.head) - len(tail)
        marker = f"\n[... {omitted} bytes omitted by the sandbox's output cap ...]\n"
        return head + marker + tail.decode("utf-8", "replace")


def oom_kills():
    for path in ("/sys/fs/cgroup/memory.events", "/sys/fs/cgroup/memory/memory.oom_control"):
        try:
            for line in open(path):
                if line.startswith("oom_kill "):
                    return int(line.split()[1])
        except OSError:
            pass
    return 0


def child(path, timeout_s, memory_mb, out_w, err_w, done_w):
    """Runs in the forked child: becomes `python3 main.py`, never returns. Its exit status also goes
    to fd 3 just before it exits, so the server need not wait for the kernel to tear it down."""
    import builtins
    import io
    import random
    import resource
    import traceback
    import types

    status = 1
    try:
        os.setsid()
        ctypes.CDLL(None).prctl(4, 1, 0, 0, 0)  # dumpable again: /proc/self is the step's own
        os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
        os.dup2(out_w, 1)
        os.dup2(err_w, 2)
        os.dup2(done_w, 3)
        os.set_inheritable(3, False)  # a program the step runs never gets it
        os.closerange(4, 65536)  # the server's socket and every other descriptor
        os.chdir("/workspace")
        resource.setrlimit(resource.RLIMIT_CPU, (timeout_s + 1, timeout_s + 1))
        if memory_mb:  # the address space inherited from the server, plus the step's memory limit
            inherited = int(open("/proc/self/statm").read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
            limit = inherited + memory_mb * 1024 * 1024
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        with open("/proc/self/oom_score_adj", "w") as f:
            f.write("1000")  # the step, not the server, is what the OOM killer takes
        random.seed()
        if numpy is not None:
            numpy.random.seed()
        sys.stdin = open(os.devnull)
        sys.stdout = io.TextIOWrapper(io.FileIO(1, "w", closefd=False), "utf-8", "backslashreplace", write_through=True)
        sys.stderr = io.TextIOWrapper(io.FileIO(2, "w", closefd=False), "utf-8", "backslashreplace", write_through=True)
        main = types.ModuleType("__main__")
        main.__file__, main.__builtins__ = path, builtins
        sys.modules["__main__"], sys.argv = main, [path]
        sys.path.insert(0, os.path.dirname(path))
        with open(path, "rb") as f:
            code = compile(f.read(), path, "exec")
        try:
            exec(code, main.__dict__)
            status = 0
        except SystemExit as e:
            if e.code is None or isinstance(e.code, int):
                status = e.code or 0
            else:
                print(e.code, file=sys.stderr)
        except BaseException as e:
            traceback.print_exception(type(e), e, e.__traceback__.tb_next)  # without this file's frame
        import atexit
        import threading

        threading._shutdown()
        atexit._run_exitfuncs()
        sys.stdout.flush()
        sys.stderr.flush()
    except BaseException as e:  # the step could not start: say why on its stderr
        os.write(2, f"fork_server: the step could not start: {e!r}\n".encode())
    finally:
        try:
            os.write(3, bytes([status & 0xFF]))
        finally:
            os._exit(status & 0xFF)


def others(keep=(), exiting=False):
    """Processes of the sandbox user other than this server (and `keep`) that are not zombies; with
    `exiting`, not those past the point of exiting where their memory goes either (no VmSize): they
    can never run code again, the kernel is only freeing them."""
    me, left = os.getpid(), []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            status = open(f"/proc/{pid}/status").read()
        except OSError:
            continue
        uid = int(status.split("Uid:")[1].split()[0])
        gone = "\nState:\tZ" in status or (exiting and "\nVmSize:" not in status)
        if uid == SANDBOX_UID and int(pid) not in (me, *keep) and not gone:
            left.append(pid)
    return left


def reap():
    while True:
        try:
            if os.waitpid(-1, os.WNOHANG)[0] == 0:
                return
        except ChildProcessError:
            return


def sweep():
    """Kills every other process of the sandbox user: the step's, and any daemon it left. Those still
    exiting are left to finish while the result goes out: `settle` waits for them before the next step."""
    for _ in range(200):
        try:
            os.kill(-1, signal.SIGKILL)
        except OSError:
            pass
        reap()
        if not others(exiting=True):
            return
        time.sleep(0.005)
    sys.exit("fork_server: could not end the step's processes")  # the worker then sweeps and restarts


def settle(spare):
    """Before a step: nothing of the last one is left, not even exiting (usually long done by now)."""
    for _ in range(2000):
        reap()
        if not others(keep=(spare,)):
            return
        time.sleep(0.005)
    sys.exit("fork_server: the last step's processes did not exit")


SPARE = []  # the child of the next step, forked ahead of it


def spawn(listener):
    """Forks the next step's child while no step runs (a fork copies the server's page tables: this
    keeps that off the step's time). The child waits on a pipe for its step; it was forked after the
    token in force was rotated, so it holds no token a later step needs."""
    ctl_r, ctl_w = os.pipe()
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    done_r, done_w = os.pipe()
    for _ in range(400):  # a step that exhausted its pids: the kernel frees them as they are reaped
        try:
            pid = os.fork()
            break
        except BlockingIOError:
            time.sleep(0.005)
    else:
        for fd in (ctl_r, ctl_w, out_r, out_w, err_r, err_w, done_r, done_w):
            os.close(fd)
        raise OSError("fork_server: no pid left to fork the step's child")
    if pid == 0:
        try:
            for fd in (listener.fileno(), ctl_w, out_r, err_r, done_r):
                os.close(fd)
            req = json.loads(os.read(ctl_r, 65536) or b"null")  # one write of < PIPE_BUF: whole
            if not req:
                os._exit(0)  # the server is gone
        except BaseException:
            os._exit(1)
        child(req["path"], int(req["timeoutS"]), int(req["memoryMb"]), out_w, err_w, done_w)
    for fd in (ctl_r, out_w, err_w, done_w):
        os.close(fd)
    return {"pid": pid, "pidfd": os.pidfd_open(pid), "ctl": ctl_w, "out": out_r, "err": err_r, "done": done_r}


def release(spare):
    for fd in ("ctl", "pidfd", "out", "err", "done"):
        try:
            os.close(spare[fd])
        except OSError:
            pass


def start(req, listener):
    """Hands the step to the spare child (a fresh one if there is none, or it died waiting)."""
    order = json.dumps({"path": req["path"], "timeoutS": req["timeoutS"], "memoryMb": req.get("memoryMb") or 0})
    for spare in (SPARE.pop() if SPARE else None, None):
        spare = spare or spawn(listener)
        try:
            os.write(spare["ctl"], order.encode())
            os.close(spare["ctl"])
            return spare
        except OSError:
            os.kill(spare["pid"], signal.SIGKILL)
            release(spare)
    raise OSError("no child would take the step")


def run(req, conn, listener):
    timeout_s, cap = int(req["timeoutS"]), int(req["outputBytes"])
    ooms = oom_kills()
    started = time.monotonic()
    spare = start(req, listener)
    pid, pidfd, done = spare["pid"], spare["pidfd"], spare["done"]
    streams = {spare["out"]: Capped(cap), spare["err"]: Capped(cap)}
    poller = select.poll()
    for fd in (*streams, pidfd, done, conn.fileno()):
        poller.register(fd, select.POLLIN)
    deadline = started + timeout_s
    timed_out = cancelled = False
    status = None  # the exit status the child sent before it exited
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            timed_out = True
            break
        events = dict(poller.poll(left * 1000))
        if done in events:
            status = os.read(done, 1)
            if status:
                status = status[0]
                break
            status = None
            poller.unregister(done)
        if pidfd in events:
            break
        if conn.fileno() in events:  # the worker is gone (or cancelled the step)
            cancelled = True
            break
        for fd in list(streams):
            if fd in events:
                chunk = os.read(fd, 65536)
                if chunk:
                    streams[fd].write(chunk)
                else:
                    poller.unregister(fd)
    if timed_out or cancelled:
        os.kill(pid, signal.SIGKILL)
    if status is None:
        _, wstatus = os.waitpid(pid, 0)  # before the sweep, which reaps whatever is left
    wall_ms = round((time.monotonic() - started) * 1000)
    sweep()  # the child, if it sent its status, is exiting: the sweep lets the kernel free it meanwhile
    for fd, stream in streams.items():
        os.set_blocking(fd, False)  # every writer is gone or exiting: what they wrote is in the pipe
        try:
            while chunk := os.read(fd, 65536):
                stream.write(chunk)
        except BlockingIOError:
            pass
    release(spare)
    if cancelled:
        return None
    signalled = status is None and os.WIFSIGNALED(wstatus)
    kills = oom_kills()
    oom = signalled and os.WTERMSIG(wstatus) == signal.SIGKILL and not timed_out and kills > ooms
    if status is not None:
        code = status
    else:
        code = 128 + os.WTERMSIG(wstatus) if signalled else os.WEXITSTATUS(wstatus)
    out, err = streams[spare["out"]], streams[spare["err"]]
    return {
        "exitCode": None if timed_out or oom else code,
        "timedOut": timed_out,
        "oomKilled": oom,
        "wallMs": wall_ms,
        "stdout": out.text(),
        "stderr": err.text(),
        "stdoutBytes": out.total,
        "stderrBytes": err.total,
        "outputTruncated": out.total > cap or err.total > cap,
        "oomKills": kills,  # the container's count so far, for the worker's plain-exec fallback
    }


def serve(conn, listener):
    reader = conn.makefile("rb")
    req = json.loads(reader.readline(1 << 16) or b"{}")
    if TOKEN[0] is None or not hmac.compare_digest(str(req.get("token", "")), TOKEN[0]):
        conn.sendall(b'{"error": "bad token"}\n')
        return
    TOKEN[0] = None  # void until the worker rotates it, after this step's processes are gone
    settle(SPARE[0]["pid"] if SPARE else None)  # if it cannot, the server exits: the step never started
    conn.sendall(b'{"started": true}\n')
    result = run(req, conn, listener)
    if result is None:
        return
    conn.sendall(json.dumps(result).encode() + b"\n")
    rotated = json.loads(reader.readline(1 << 16) or b"{}").get("next")
    if isinstance(rotated, str) and len(rotated) >= 32:
        TOKEN[0] = rotated
        conn.sendall(b'{"ok": true}\n')


def main():
    path = sys.argv[1]
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    # Bound under a temporary name, then renamed: the socket appears only once it accepts.
    listener.bind(path + ".new")
    os.chmod(path + ".new", 0o666)
    listener.listen(16)
    os.rename(path + ".new", path)
    while True:
        if not SPARE:
            try:
                SPARE.append(spawn(listener))
            except OSError:
                pass  # the step forks its child itself
        conn, _ = listener.accept()
        conn.settimeout(30)  # a request, or the rotation after a result: the worker sends both at once
        try:
            serve(conn, listener)
        except (OSError, ValueError, KeyError, TypeError):
            pass  # a malformed or abandoned connection ends; the next one is served
        finally:
            conn.close()


main()
