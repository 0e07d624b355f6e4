CONFIG = {}  # written by the Designer (agents/heuristic/image-designer.ts)
"""Image baseline: reads /data/train.csv and the images it names, writes /workspace/submission.csv.

With PyTorch in the sandbox image (the python-torch profile) a small CNN on grey images of
CONFIG["size"] pixels a side; without it (python-ml) those pixels as features of a linear model."""
import os

import numpy as np
import pandas as pd
from PIL import Image

ID, TARGET, IMAGE, METRIC, SIZE = CONFIG["id"], CONFIG["target"], CONFIG["image"], CONFIG["metric"], CONFIG["size"]
DATA = os.environ.get("ANVIL_DATA_DIR", "/data")


def pixels(paths) -> np.ndarray:
    """Each image as grey levels in [0, 1], resized to SIZE x SIZE."""
    rows = []
    for path in paths:
        with Image.open(os.path.join(DATA, path)) as image:
            grey = image.convert("L").resize((SIZE, SIZE), Image.BILINEAR)
        rows.append(np.asarray(grey, dtype=np.float32) / 255.0)
    return np.stack(rows)


def linear(x_train, y, x_test):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000, C=0.5))
    model.fit(x_train.reshape(len(x_train), -1), y)
    return model.classes_, model.predict_proba(x_test.reshape(len(x_test), -1))


def cnn(x_train, y, x_test, torch):
    """Two convolutions and a linear layer, a few epochs of Adam: seconds on 8x8 to 28x28 digits."""
    torch.manual_seed(0)
    torch.set_num_threads(max(1, int(os.environ.get("OMP_NUM_THREADS", "1"))))
    classes, codes = np.unique(y, return_inverse=True)
    nn = torch.nn
    model = nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(),
        nn.AdaptiveAvgPool2d(4), nn.Flatten(), nn.Linear(32 * 16, len(classes)),
    )
    inputs = torch.tensor(x_train[:, None]); targets = torch.tensor(codes, dtype=torch.long)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    for epoch in range(CONFIG.get("epochs", 8)):
        order = torch.randperm(len(inputs))
        for start in range(0, len(order), 64):
            batch = order[start : start + 64]
            optimizer.zero_grad()
            loss = nn.functional.cross_entropy(model(inputs[batch]), targets[batch])
            loss.backward()
            optimizer.step()
        print(f"epoch {epoch + 1}: loss {loss.item():.3f}", flush=True)
    with torch.no_grad():
        probabilities = torch.softmax(model(torch.tensor(x_test[:, None])), dim=1).numpy()
    return classes, probabilities


train = pd.read_csv(os.path.join(DATA, "train.csv"), dtype={TARGET: str})
test = pd.read_csv(os.path.join(DATA, "test.csv"))
x_train, x_test, y = pixels(train[IMAGE]), pixels(test[IMAGE]), train[TARGET].values
try:
    import torch
except ImportError:
    torch = None
classes, probabilities = cnn(x_train, y, x_test, torch) if torch else linear(x_train, y, x_test)
if METRIC == "roc-auc":
    prediction = probabilities[:, list(classes).index("1")]
else:
    prediction = classes[probabilities.argmax(axis=1)]
pd.DataFrame({ID: test[ID], TARGET: prediction}).to_csv("/workspace/submission.csv", index=False)
