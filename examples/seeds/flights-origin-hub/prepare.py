"""US flights 2001: the flights that left the six busiest airports, a stratified 80/20 split,
the origin airport as the target, shuffled integer ids."""
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

SEED = 20011231
ID, TARGET = "id", "origin"


def prepare(raw: Path, public: Path, private: Path) -> None:
    flights = pd.read_csv(raw / "flights.csv")
    # The six busiest origins; ties (none in this data) broken by code for determinism.
    counts = flights[TARGET].value_counts()
    hubs = sorted(counts.index, key=lambda a: (-counts[a], a))[:6]
    flights = flights[flights[TARGET].isin(hubs)].reset_index(drop=True)
    flights.insert(0, ID, np.random.RandomState(SEED).permutation(len(flights)) + 1)
    train, test = train_test_split(flights, test_size=0.2, stratify=flights[TARGET], random_state=SEED)

    train.to_csv(public / "train.csv", index=False)
    test.drop(columns=[TARGET]).to_csv(public / "test.csv", index=False)
    test[[ID]].assign(**{TARGET: train[TARGET].mode()[0]}).to_csv(public / "sample_submission.csv", index=False)
    test[[ID, TARGET]].to_csv(private / "answers.csv", index=False)
