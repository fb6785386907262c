#!/usr/bin/python3
"""Golden values for every metric the platform computes, from real scikit-learn.

Run with Debian's scikit-learn (`apt-get install -y python3-sklearn`, 1.2.1 on bookworm):

    /usr/bin/python3 tools/golden/make-metric-goldens.py > tests/fixtures/metric-goldens.json

tests/unit/metric-goldens.test.ts reads the JSON (the tests do not need Python). Each case
holds the inputs exactly as the worker's metric functions take them (per-row class scores and
a class index per row; or per-row predictions and targets) and the value sklearn computes:

  accuracy  accuracy_score(y, argmax(scores))            argmax: the first maximum (np.argmax)
  macro_f1  f1_score(y, argmax(scores), average="macro", zero_division=0)
  top_k     top_k_accuracy_score(y, scores, k=k, labels=range(C))
  mse       mean_squared_error(t, p)                      multioutput="uniform_average"
  mae       mean_absolute_error(t, p)
  rmse      mean_squared_error(t, p, squared=False)       the mean of each column's RMSE
  r2        r2_score(t, p)                                force_finite=True

Two-class tasks: sklearn's top_k_accuracy_score treats a two-valued y_true as binary and then
wants a single score column; the platform always gets one score per class. The case is fed to
sklearn's multiclass path by adding a third class whose score is below every other one (so it
ranks last and never enters the top k), which is the same ranking the platform applies to the
two real columns.
"""

import json
import sys
import warnings

import numpy as np
import sklearn
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.metrics import (
    accuracy_score,
    f1_score,
    mean_absolute_error,
    mean_squared_error,
    r2_score,
    top_k_accuracy_score,
)

warnings.simplefilter("ignore", UndefinedMetricWarning)  # k >= n_classes is a case we want


def top_k(labels, scores, k):
    scores = np.asarray(scores, dtype=np.float64)
    classes = scores.shape[1]
    if classes == 2:
        padding = np.full((scores.shape[0], 1), scores.min() - 1.0)
        scores = np.hstack([scores, padding])
    return float(top_k_accuracy_score(labels, scores, k=k, labels=list(range(scores.shape[1]))))


def classification_case(name, scores, labels, k):
    scores = np.asarray(scores, dtype=np.float64)
    labels = np.asarray(labels, dtype=np.int64)
    predicted = np.argmax(scores, axis=1)
    return {
        "name": name,
        "numClasses": int(scores.shape[1]),
        "topK": int(k),
        "scores": scores.tolist(),
        "labels": labels.tolist(),
        "expected": {
            "accuracy": float(accuracy_score(labels, predicted)),
            "macro_f1": float(f1_score(labels, predicted, average="macro", zero_division=0)),
            "top_k": top_k(labels, scores, k),
        },
    }


def regression_case(name, predictions, targets):
    p = np.asarray(predictions, dtype=np.float64)
    t = np.asarray(targets, dtype=np.float64)
    if p.ndim == 1:
        p = p[:, None]
        t = t[:, None]
    # sklearn takes a 1-D array for a single output; its multi-output average is per column.
    sp, st = (p[:, 0], t[:, 0]) if p.shape[1] == 1 else (p, t)
    return {
        "name": name,
        "width": int(p.shape[1]),
        "predictions": p.tolist(),
        "targets": t.tolist(),
        "expected": {
            "mse": float(mean_squared_error(st, sp)),
            "mae": float(mean_absolute_error(st, sp)),
            "rmse": float(mean_squared_error(st, sp, squared=False)),
            "r2": float(r2_score(st, sp)),
        },
    }


def classification_cases():
    rng = np.random.default_rng(20261129)
    hand = [
        [0.7, 0.2, 0.1],
        [0.3, 0.6, 0.1],
        [0.1, 0.8, 0.1],
        [0.2, 0.5, 0.3],
        [0.1, 0.1, 0.8],
        [0.5, 0.4, 0.1],
    ]
    hand_labels = [0, 0, 1, 1, 2, 2]
    cases = [classification_case(f"hand-worked 3 classes, k={k}", hand, hand_labels, k) for k in (1, 2, 3)]

    # Every score equal: argmax picks class 0, top-k takes the highest class indices first
    # (the labels are lopsided so that the other tie rule gives other values).
    flat = [[0.25, 0.25, 0.25, 0.25]] * 4
    for k in (1, 2, 3):
        cases.append(classification_case(f"all scores tied, k={k}", flat, [3, 3, 0, 2], k))

    # A tie across the k-th place: which of the tied classes is inside the top k. The labels are
    # lopsided on purpose, so that the lower-index-first rule would give other values.
    at_kth = [
        [0.4, 0.3, 0.3, 0.0],
        [0.4, 0.3, 0.3, 0.0],
        [0.1, 0.3, 0.3, 0.3],
        [0.1, 0.3, 0.3, 0.3],
        [0.1, 0.3, 0.3, 0.3],
        [0.5, 0.5, 0.0, 0.0],
        [0.5, 0.5, 0.0, 0.0],
    ]
    at_kth_labels = [2, 2, 3, 3, 1, 1, 1]
    for k in (1, 2, 3):
        cases.append(classification_case(f"ties across the k-th place, k={k}", at_kth, at_kth_labels, k))

    cases.append(classification_case("negative logits with ties, k=2", [[-1.0, -1.0, -3.0], [-2.0, -0.5, -0.5], [0.0, -0.0, 1.0]], [0, 1, 0], 2))

    # Only one class in y_true (some rows predicted as another).
    single = [[0.1, 0.9, 0.0], [0.2, 0.7, 0.1], [0.6, 0.3, 0.1], [0.1, 0.8, 0.1]]
    cases.append(classification_case("a single true class", single, [1, 1, 1, 1], 1))
    cases.append(classification_case("a single true class, all right", [[0.1, 0.9, 0.0]] * 3, [1, 1, 1], 2))

    wrong = [[0.9, 0.1, 0.0], [0.0, 0.9, 0.1], [0.1, 0.0, 0.9]]
    cases.append(classification_case("all wrong, k=1", wrong, [1, 2, 0], 1))
    cases.append(classification_case("all wrong, k=2", wrong, [1, 2, 0], 2))
    cases.append(classification_case("all right", wrong, [0, 1, 2], 1))

    # Class 3 is true twice and never predicted (its F1 is 0 and counts); class 4 is neither
    # true nor predicted (left out of the average, sklearn's default labels).
    never = [
        [0.8, 0.1, 0.05, 0.05, 0.0],
        [0.1, 0.8, 0.05, 0.05, 0.0],
        [0.1, 0.1, 0.7, 0.1, 0.0],
        [0.5, 0.1, 0.1, 0.3, 0.0],
        [0.1, 0.1, 0.5, 0.3, 0.0],
        [0.1, 0.6, 0.2, 0.1, 0.0],
    ]
    cases.append(classification_case("macro-F1 with a class never predicted", never, [0, 1, 2, 3, 3, 1], 2))

    two = [[0.5, 0.5], [0.5, 0.5], [0.3, 0.7], [0.8, 0.2], [0.6, 0.4]]
    cases.append(classification_case("two classes with a 0.5/0.5 tie, k=1", two, [0, 1, 1, 1, 0], 1))
    cases.append(classification_case("two classes, k=2", two, [0, 1, 1, 1, 0], 2))

    cases.append(classification_case("k larger than the class count", hand, hand_labels, 5))

    # Larger random cases; scores rounded to one decimal so that ties are frequent.
    for classes, rows, k in ((5, 200, 1), (5, 200, 2), (10, 500, 3)):
        scores = np.round(rng.random((rows, classes)), 1)
        labels = rng.integers(0, classes, rows)
        cases.append(classification_case(f"random {rows}x{classes}, scores with ties, k={k}", scores, labels, k))
    scores = rng.standard_normal((300, 7))
    labels = rng.integers(0, 7, 300)
    cases.append(classification_case("random 300x7 logits, k=3", scores, labels, 3))
    return cases


def regression_cases():
    rng = np.random.default_rng(1129)
    cases = [
        regression_case("hand-worked", [1, 2, 3, 5], [1, 2, 3, 4]),
        regression_case("perfect", [3, -1, 4, 1, 5], [3, -1, 4, 1, 5]),
        regression_case("predicting the mean", [2.4] * 5, [3, -1, 4, 1, 5]),
        regression_case("worse than the mean (negative R2)", [5, -3, 1, 6, -2], [3, -1, 4, 1, 5]),
        regression_case("constant target, predicted exactly", [5, 5, 5], [5, 5, 5]),
        regression_case("constant target, predicted wrong", [5, 5, 6], [5, 5, 5]),
        regression_case("all zero", [0, 0], [0, 0]),
        regression_case(
            "three outputs of different scales",
            [[1.0, 10.0, 100.0], [2.0, 21.0, 180.0], [3.5, 29.0, 330.0], [4.0, 41.0, 400.0]],
            [[1.0, 10.0, 100.0], [2.0, 20.0, 200.0], [3.0, 30.0, 300.0], [4.0, 40.0, 400.0]],
        ),
        regression_case(
            "two outputs, one with a constant target",
            [[1.0, 7.0], [2.5, 7.0], [2.0, 7.5]],
            [[1.0, 7.0], [2.0, 7.0], [3.0, 7.0]],
        ),
    ]
    targets = rng.standard_normal((300, 2)) * [1.0, 50.0]
    predictions = targets + rng.standard_normal((300, 2)) * [0.3, 20.0]
    cases.append(regression_case("random 300x2", predictions, targets))
    targets = rng.standard_normal(250)
    cases.append(regression_case("random 250, noisy", targets + rng.standard_normal(250), targets))
    return cases


def main():
    goldens = {
        "$comment": "made by tools/golden/make-metric-goldens.py; do not edit by hand",
        "sklearn": sklearn.__version__,
        "numpy": np.__version__,
        "classification": classification_cases(),
        "regression": regression_cases(),
    }
    # One case a line, so that a change to one case is a one-line diff.
    lines = ["{"]
    for key, value in goldens.items():
        if isinstance(value, list):
            body = ",\n".join("  " + json.dumps(case) for case in value)
            lines.append(f" {json.dumps(key)}: [\n{body}\n ],")
        else:
            lines.append(f" {json.dumps(key)}: {json.dumps(value)},")
    lines[-1] = lines[-1].rstrip(",")
    lines.append("}")
    sys.stdout.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
