#!/usr/bin/env python3
"""Predict disease cases for chapkit's ShellModelRunner (Python 3 standard library only).

Usage:
    predict_model.py --config config.json --model model.json [--historic historic.csv]
                     --future future.csv --output predictions.csv [--geo geo.json]

Reads the model written by train_model.py and writes the future rows with an added
sample_0 column (the predicted disease cases) to --output.
"""
import argparse
import csv
import json
import sys


def log(message):
    print(message, file=sys.stderr)


def main():
    parser = argparse.ArgumentParser(description="Predict disease cases")
    parser.add_argument("--config", required=True)
    parser.add_argument("--model", required=True)
    parser.add_argument("--historic", default="")
    parser.add_argument("--future", required=True)
    parser.add_argument("--output", required=True)
    parser.add_argument("--geo", default="")
    args = parser.parse_args()
    try:
        with open(args.config, encoding="utf-8") as handle:
            config = json.load(handle)
        with open(args.model, encoding="utf-8") as handle:
            model = json.load(handle)
        log(f"Loaded {model.get('model_type', config.get('model_type', 'linear_regression'))} model")
        if args.historic:
            with open(args.historic, newline="", encoding="utf-8") as handle:
                log(f"Historic rows: {sum(1 for _ in csv.DictReader(handle))}")

        with open(args.future, newline="", encoding="utf-8") as handle:
            reader = csv.reader(handle)
            header = next(reader)
            rows = list(reader)
        features = model["features"]
        missing = [name for name in features if name not in header]
        if missing:
            raise KeyError(f"{missing} not in index")
        index = [header.index(name) for name in features]

        with open(args.output, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(header + ["sample_0"])
            for row in rows:
                values = [float(row[i]) for i in index]
                prediction = model["intercept"] + sum(w * x for w, x in zip(model["coefficients"], values))
                writer.writerow(row + [repr(float(prediction))])
        log(f"Predictions written to {args.output}")
        print(f"SUCCESS: Predictions made for {len(rows)} samples")
    except Exception as exc:  # noqa: BLE001 - report any failure the same way
        print(f"ERROR: Prediction failed: {exc}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
