#!/usr/bin/env python3
"""Compares two results.json of `vaeser reproduce`/`demo` runs of the same
command on two devices (the CPU as the reference, CUDA as the candidate).

The runs must have the same structure: the same cells (model, task,
subset, latent, seed) with the same folds and utterance counts. Their
scores may differ: the GPU's products and exp/tanh round differently, and
over whole fits with early stopping a few ulps can move a stopping epoch
or flip a test utterance whose class probabilities are nearly tied. The
stated tolerance (the README's CUDA section) is on the pooled WA and UA of
each cell: the mean absolute difference over all cells at most
--mean-tolerance (default 0.02), and no cell beyond --cell-tolerance
(default 0.10). Exit status 0 when both hold, 1 otherwise, 2 on unusable
input. Standard library only: it runs on a GPU machine without Rust.
"""
import argparse
import json
import sys

SECTIONS = ("table1", "table2", "sweep", "baselines")


def cell_key(cell):
    return (cell["model"], cell["task"], cell["subset"], cell["latent"], cell["seed"])


def fold_shape(cell):
    return [(f["test_group"], f["n_train"], f["n_validation"], f["n_test"]) for f in cell["folds"]]


def load(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        sys.exit(f"compare_results: {path}: {e}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("reference", help="results.json of the reference run (CPU)")
    ap.add_argument("candidate", help="results.json of the compared run (CUDA)")
    ap.add_argument("--mean-tolerance", type=float, default=0.02)
    ap.add_argument("--cell-tolerance", type=float, default=0.10)
    args = ap.parse_args()
    ref, cand = load(args.reference), load(args.candidate)

    problems = []
    diffs = []
    worst = (0.0, None)
    for section in SECTIONS:
        r_cells, c_cells = ref.get(section, []), cand.get(section, [])
        if [cell_key(c) for c in r_cells] != [cell_key(c) for c in c_cells]:
            problems.append(f"{section}: the two runs have different cells")
            continue
        for r, c in zip(r_cells, c_cells):
            name = "{}-{}-{}-L{} seed {}".format(*cell_key(r))
            if fold_shape(r) != fold_shape(c):
                problems.append(f"{section} {name}: different folds or utterance counts")
                continue
            for metric in ("wa", "ua"):
                d = abs(r["summary"]["pooled"][metric] - c["summary"]["pooled"][metric])
                diffs.append(d)
                if d > worst[0]:
                    worst = (d, f"{section} {name} {metric}")
                if d > args.cell_tolerance:
                    problems.append(
                        f"{section} {name}: pooled {metric} {r['summary']['pooled'][metric]:.4f} "
                        f"vs {c['summary']['pooled'][metric]:.4f}, beyond {args.cell_tolerance}"
                    )
    if not diffs and not problems:
        sys.exit("compare_results: no cells to compare")
    mean = sum(diffs) / len(diffs) if diffs else 0.0
    exact = sum(1 for d in diffs if d == 0.0)
    print(
        f"{len(diffs)} pooled scores compared: {exact} equal, mean |difference| {mean:.4f} "
        f"(tolerance {args.mean_tolerance}), largest {worst[0]:.4f}"
        + (f" ({worst[1]})" if worst[1] else "")
        + f" (tolerance per cell {args.cell_tolerance})"
    )
    if mean > args.mean_tolerance:
        problems.append(f"mean |difference| {mean:.4f} beyond {args.mean_tolerance}")
    for p in problems:
        print("MISMATCH: " + p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
