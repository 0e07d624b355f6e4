import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { afterAll, describe, expect, it } from 'vitest';
import { fromTemplate } from '../agents/heuristic/designer';
import { bestScore, METRICS, metricSpec } from '../domain/metrics';
import { DockerSandbox } from '../sandbox/docker';

// The heuristic metric template (agents/heuristic/templates/metric.py) for every metric the Forge
// knows, on scikit-learn's bundled real data, against an independent computation of the same metric.
const CONFIGS: Record<string, object> = {
  accuracy: { target: 'y' },
  'macro-f1': { target: 'y' },
  'micro-f1': { target: 'y' },
  qwk: { target: 'y' },
  'map@k': { target: 'y', k: 3 },
  'roc-auc': { target: 'y' },
  'log-loss': { target: 'y', columns: ['0', '1', '2'] },
  rmse: { target: 'y' },
  mae: { target: 'y' },
  rmsle: { target: 'y' },
  r2: { target: 'y' },
  mape: { target: 'y' },
  smape: { target: 'y' },
  mase: { target: 'y' },
  mcrmse: { target: 'y', columns: ['Weight', 'Waist', 'Pulse'] },
  'mean-column-auc': { target: 'y', columns: ['0', '1', '2'] },
};

// For each metric: answers, a fitted model's submission, the reference value computed another way.
const SCRIPT = `
import importlib.util, json, numpy as np, pandas as pd
from sklearn import datasets, metrics
from sklearn.linear_model import LinearRegression, LogisticRegression

def load(name):
    spec = importlib.util.spec_from_file_location(name, f"/data/{name}.py")
    module = importlib.util.module_from_spec(spec); spec.loader.exec_module(module); return module

iris = datasets.load_iris(); X, y = iris.data[:, :2], iris.target  # two features: an imperfect model
proba = LogisticRegression(max_iter=1000).fit(X, y).predict_proba(X); label = proba.argmax(1)
ids = np.arange(len(y))
binary = (y == 2).astype(int)
top3 = [" ".join(map(str, np.argsort(-p)[:3])) for p in proba]
dia = datasets.load_diabetes(); dX, dy = dia.data, dia.target
dp = np.clip(LinearRegression().fit(dX, dy).predict(dX), 1, None)
lin = datasets.load_linnerud(); lX, lY = lin.data, lin.target
lP = LinearRegression().fit(lX, lY).predict(lX)
one_hot = np.eye(3)[y]
naive = float(np.mean(np.abs(np.diff(dy))))  # MASE's scale: the mean one-step change

def frame(**columns): return pd.DataFrame({"id": np.arange(len(next(iter(columns.values())))), **columns})
cases = {
  "accuracy": (frame(y=y), frame(y=label), metrics.accuracy_score(y, label)),
  "macro-f1": (frame(y=y), frame(y=label), metrics.f1_score(y, label, average="macro")),
  "micro-f1": (frame(y=y), frame(y=label), metrics.f1_score(y, label, average="micro")),
  "qwk": (frame(y=y), frame(y=label), metrics.cohen_kappa_score(y, label, weights="quadratic")),
  "map@k": (frame(y=y), frame(y=top3), float(np.mean([1 / (list(np.argsort(-p)).index(t) + 1) for p, t in zip(proba, y)]))),
  "roc-auc": (frame(y=binary), frame(y=proba[:, 2]), metrics.roc_auc_score(binary, proba[:, 2])),
  "log-loss": (frame(y=y), frame(**{str(c): proba[:, c] for c in range(3)}), metrics.log_loss(y, proba)),
  "rmse": (frame(y=dy), frame(y=dp), metrics.mean_squared_error(dy, dp) ** 0.5),
  "mae": (frame(y=dy), frame(y=dp), metrics.mean_absolute_error(dy, dp)),
  "rmsle": (frame(y=dy), frame(y=dp), metrics.mean_squared_log_error(dy, dp) ** 0.5),
  "r2": (frame(y=dy), frame(y=dp), metrics.r2_score(dy, dp)),
  "mape": (frame(y=dy), frame(y=dp), metrics.mean_absolute_percentage_error(dy, dp)),
  "smape": (frame(y=dy), frame(y=dp), float(np.mean(2 * np.abs(dp - dy) / (np.abs(dp) + np.abs(dy))))),
  "mase": (frame(y=dy, mase_scale=naive), frame(y=dp), metrics.mean_absolute_error(dy, dp) / naive),
  "mcrmse": (frame(**{c: lY[:, i] for i, c in enumerate(lin.target_names)}), frame(**{c: lP[:, i] for i, c in enumerate(lin.target_names)}),
             float(np.mean(metrics.mean_squared_error(lY, lP, multioutput="raw_values") ** 0.5))),
  "mean-column-auc": (frame(**{str(c): one_hot[:, c] for c in range(3)}), frame(**{str(c): proba[:, c] for c in range(3)}),
             metrics.roc_auc_score(one_hot, proba, average="macro")),
}
out = {}
for name, (answers, submission, reference) in cases.items():
    metric = load(name.replace("@", "_at_"))
    if name == "log-loss":
        perfect = frame(**{str(c): one_hot[:, c] for c in range(3)})
    elif name == "mase":
        perfect = answers[["id", "y"]]
    elif name == "map@k":
        perfect = frame(y=y.astype(str))
    else:
        perfect = answers
    try:
        metric.grade(submission.iloc[1:], answers); rejected = False
    except metric.InvalidSubmission:
        rejected = True
    out[name] = {"score": metric.grade(submission.sample(frac=1, random_state=0), answers), "reference": float(reference),
                 "perfect": metric.grade(perfect, answers), "rejectsMissingRow": rejected}
print(json.dumps(out))
`;

const root = mkdtempSync(join(tmpdir(), 'anvil-metric-templates-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('the metric template', () => {
  it('computes every metric the Forge knows as scikit-learn does, scores the answers at the best bound, rejects a missing row', async () => {
    expect(Object.keys(CONFIGS).sort()).toEqual(Object.keys(METRICS).sort());
    const data = join(root, 'data');
    mkdirSync(data, { recursive: true });
    for (const [metric, config] of Object.entries(CONFIGS)) {
      const file = join(data, `${metric.replace('@', '_at_')}.py`);
      writeFileSync(file, fromTemplate('metric.py', { id: 'id', metric, ...config }));
      chmodSync(file, 0o644);
    }
    chmodSync(data, 0o755);
    const sandbox = new DockerSandbox(new Docker(), { runsDir: join(root, 'runs') });
    const limits = { cpus: 1, memoryMb: 1024, pids: 64, timeoutS: 120, outputBytes: 64 * 1024, tmpMb: 64 };
    const run = await sandbox.run(
      { code: SCRIPT, dataDir: data, limits },
      { runKey: `metric-templates/${process.pid}` },
    );
    expect(run.exitCode, run.stderr).toBe(0);
    const scores = JSON.parse(run.stdout) as Record<
      string,
      { score: number; reference: number; perfect: number; rejectsMissingRow: boolean }
    >;
    for (const [metric, { score, reference, perfect, rejectsMissingRow }] of Object.entries(scores)) {
      expect(score, metric).toBeCloseTo(reference, 9);
      const best = bestScore(metricSpec(metric)) ?? 0;
      expect(perfect, `${metric}: the answers score the best bound`).toBeCloseTo(best, 6);
      expect(score === best, `${metric}: an imperfect model scores below the best`).toBe(false);
      expect(rejectsMissingRow, metric).toBe(true);
    }
  });
});
