import { chmodSync, copyFileSync, mkdirSync, mkdtempSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * Softmax regression by mini-batch SGD on the Palmer penguins (species from 4 measurements). Each
 * step's batch depends only on the step, so a resumed run computes what an unbroken one would.
 */
export const TRAIN_PY = String.raw`
import json, os, time
import numpy as np

ws, ckdir = os.environ["ANVIL_WORKSPACE"], os.environ["ANVIL_CHECKPOINT_DIR"]
STEPS, EVERY, SLEEP = int(os.environ["STEPS"]), int(os.environ["CHECKPOINT_EVERY"]), float(os.environ["STEP_SLEEP"])
cols = ["Beak Length (mm)", "Beak Depth (mm)", "Flipper Length (mm)", "Body Mass (g)"]
rows = [r for r in json.load(open(os.path.join(os.environ["ANVIL_DATA_DIR"], "penguins.json"))) if all(r.get(c) is not None for c in cols)]
species = sorted({r["Species"] for r in rows})
X = np.array([[r[c] for c in cols] for r in rows], float)
X = (X - X.mean(0)) / X.std(0)
y = np.array([species.index(r["Species"]) for r in rows])
W, b, start = np.zeros((X.shape[1], len(species))), np.zeros(len(species)), 1

def progress(**fields):
    print("ANVIL_PROGRESS " + json.dumps(fields), flush=True)

def probs(A):
    z = A @ W + b
    e = np.exp(z - z.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)

if os.environ.get("ANVIL_RESUME_FROM"):
    ck = np.load(os.environ["ANVIL_RESUME_FROM"])
    W, b, start = ck["W"], ck["b"], int(ck["step"]) + 1
    progress(message="resumed from " + os.environ["ANVIL_RESUME_FROM"])

log = open(os.path.join(ws, "steps.log"), "a")
for step in range(start, STEPS + 1):
    idx = np.random.default_rng(step).choice(len(y), 32, replace=False)
    g = probs(X[idx]); g[np.arange(len(idx)), y[idx]] -= 1
    W -= 0.2 * X[idx].T @ g / len(idx)
    b -= 0.2 * g.mean(0)
    log.write(f"{step}\n"); log.flush()
    loss = float(-np.log(probs(X)[np.arange(len(y)), y]).mean())
    update = {"step": step, "epoch": round(step * 32 / len(y), 3), "metric": {"name": "loss", "value": loss}}
    if step % EVERY == 0:
        path = os.path.join(ckdir, f"step-{step:05d}.npz")
        with open(path + ".tmp", "wb") as f:
            np.savez(f, W=W, b=b, step=step)
        os.replace(path + ".tmp", path)
        update["checkpoint"] = os.path.relpath(path, ws)
    progress(**update)
    time.sleep(SLEEP)
acc = float((probs(X).argmax(1) == y).mean())
progress(step=STEPS, metric={"name": "accuracy", "value": acc}, message="done")
`;

export const range = (from: number, to: number) =>
  Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);

const penguins = join(dirname(require.resolve('vega-datasets')), '..', 'data', 'penguins.json');

/** A fresh folder under `root` holding penguins.json, readable by the sandbox user (not the worker's). */
export function penguinsDataDir(root: string): string {
  mkdirSync(root, { recursive: true });
  const dataDir = mkdtempSync(join(root, 'train-data-'));
  copyFileSync(penguins, join(dataDir, 'penguins.json'));
  chmodSync(join(dataDir, 'penguins.json'), 0o644);
  chmodSync(dataDir, 0o755);
  return dataDir;
}
