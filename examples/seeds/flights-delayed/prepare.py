"""US flights 2001 (3 million): a stratified 80/20 split, the target "arrived more than 15 minutes
late" (the US DOT definition of a delayed flight), shuffled integer ids."""
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

SEED = 20011231
ID, TARGET = "id", "delayed"


def prepare(raw: Path, public: Path, private: Path) -> None:
    flights = pd.read_csv(raw / "flights.csv")
    flights[TARGET] = (flights["delay"] > 15).astype(int)
    flights = flights.drop(columns=["delay"])
    flights.insert(0, ID, np.random.RandomState(SEED).permutation(len(flights)) + 1)
    train, test = train_test_split(flights, test_size=0.2, stratify=flights[TARGET], random_state=SEED)

    train.to_csv(public / "train.csv", index=False)
    test.drop(columns=[TARGET]).to_csv(public / "test.csv", index=False)
    test[[ID]].assign(**{TARGET: 0.5}).to_csv(public / "sample_submission.csv", index=False)
    test[[ID, TARGET]].to_csv(private / "answers.csv", index=False)
