#!/usr/bin/env python3
"""Train a disease-case model for chapkit's ShellModelRunner (Python 3 standard library only).

Usage:
    train_model.py --config config.json --data data.csv --model model.json [--geo geo.json]

Reads the config (min_samples, default 3; model_type, default "linear_regression"), fits
disease_cases ~ rainfall + mean_temperature + humidity by least squares (normal equations)
and writes the coefficients as JSON to --model. chapkit stores the file's bytes verbatim.
"""
import argparse
import csv
import json
import sys

FEATURES = ["rainfall", "mean_temperature", "humidity"]
TARGET = "disease_cases"


def log(message):
    print(message, file=sys.stderr)


def read_rows(path):
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        columns = reader.fieldnames or []
        return columns, list(reader)


def to_float(text):
    return float("nan") if text in ("", "nan", "NaN") else float(text)


def solve(matrix, vector):
    """Solve matrix @ x = vector by Gaussian elimination with partial pivoting."""
    n = len(vector)
    rows = [list(matrix[i]) + [vector[i]] for i in range(n)]
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(rows[r][col]))
        if abs(rows[pivot][col]) < 1e-12:
            raise ValueError("Singular matrix: features are collinear or constant")
        rows[col], rows[pivot] = rows[pivot], rows[col]
        for r in range(col + 1, n):
            factor = rows[r][col] / rows[col][col]
            for c in range(col, n + 1):
                rows[r][c] -= factor * rows[col][c]
    solution = [0.0] * n
    for r in range(n - 1, -1, -1):
        total = rows[r][n] - sum(rows[r][c] * solution[c] for c in range(r + 1, n))
        solution[r] = total / rows[r][r]
    return solution


def least_squares(features, targets):
    """Coefficients [intercept, *weights] minimising the squared error (ridge 1e-9 for stability)."""
    design = [[1.0] + row for row in features]
    width = len(design[0])
    gram = [[sum(x[i] * x[j] for x in design) + (1e-9 if i == j else 0.0) for j in range(width)] for i in range(width)]
    moment = [sum(x[i] * y for x, y in zip(design, targets)) for i in range(width)]
    return solve(gram, moment)


def main():
    parser = argparse.ArgumentParser(description="Train a disease-case model")
    parser.add_argument("--config", required=True)
    parser.add_argument("--data", required=True)
    parser.add_argument("--model", required=True)
    parser.add_argument("--geo", default="")
    args = parser.parse_args()
    try:
        with open(args.config, encoding="utf-8") as handle:
            config = json.load(handle)
        min_samples = int(config.get("min_samples", 3))
        model_type = config.get("model_type", "linear_regression")
        log(f"Loaded config: min_samples={min_samples}, model_type={model_type}")
        if model_type != "linear_regression":
            raise ValueError(f"Unsupported model_type: {model_type}")

        columns, rows = read_rows(args.data)
        missing = [name for name in FEATURES + [TARGET] if name not in columns]
        if missing:
            raise KeyError(f"{missing} not in index")
        samples = [r for r in rows if all(r[name] not in ("", "nan", "NaN") for name in FEATURES + [TARGET])]
        log(f"Loaded {len(rows)} rows, {len(samples)} complete")
        if len(samples) < min_samples:
            raise ValueError(f"Insufficient training data: {len(samples)} < {min_samples}")
        if args.geo:
            log(f"Geo file given: {args.geo}")

        features = [[to_float(r[name]) for name in FEATURES] for r in samples]
        targets = [to_float(r[TARGET]) for r in samples]
        coefficients = least_squares(features, targets)
        model = {
            "model_type": model_type,
            "features": FEATURES,
            "intercept": coefficients[0],
            "coefficients": coefficients[1:],
            "n_samples": len(samples),
        }
        with open(args.model, "w", encoding="utf-8") as handle:
            json.dump(model, handle)
        log(f"Model written to {args.model}")
        print(f"SUCCESS: Model trained on {len(samples)} samples")
    except Exception as exc:  # noqa: BLE001 - report any failure the same way
        print(f"ERROR: Training failed: {exc}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
