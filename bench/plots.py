#!/usr/bin/python3
"""Draws the benchmark plots of docs/benchmarks.md from the CSV files the benchmarks write (issue 16).

usage: /usr/bin/python3 bench/plots.py [CSV_DIR [PNG_DIR]]   (Debian's python3-matplotlib)

CSV_DIR (default bench/out) holds what these wrote; a plot whose inputs are missing is skipped with a
line saying which command makes them:
  learning_curves.png   learning_curves.csv             bench/learning_curves.sh
  time_per_iteration.png scale.csv                      bench/scale.sh "1 10 30"
  serving_latency.png   vector_search.csv               bench/vector_search.sh
  peers.png             explicit.csv, implicit_synth.csv, vector_search.csv
                                                        LIBMF=... bench/explicit.sh, IMPLICIT_PYTHONPATH=... bench/implicit.sh
PNG_DIR defaults to docs/plots.
"""
import csv
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

CSV_DIR = sys.argv[1] if len(sys.argv) > 1 else "bench/out"
PNG_DIR = sys.argv[2] if len(sys.argv) > 2 else "docs/plots"
OURS, PEER, PEER2, PEER3 = "#1f5fa8", "#d9822b", "#6a9f3a", "#9b59b6"


def rows(name):
    path = os.path.join(CSV_DIR, name)
    if not os.path.exists(path):
        return None
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def save(fig, name):
    os.makedirs(PNG_DIR, exist_ok=True)
    fig.tight_layout()
    fig.savefig(os.path.join(PNG_DIR, name), dpi=110)
    plt.close(fig)
    print("wrote", os.path.join(PNG_DIR, name))


def skipped(png, command):
    print(f"skipped {png}: run {command} first")


def learning_curves():
    data = rows("learning_curves.csv")
    if not data:
        return skipped("learning_curves.png", "bench/learning_curves.sh")
    models = list(dict.fromkeys(r["name"] for r in data))
    fig, axes = plt.subplots(1, len(models), figsize=(4.2 * len(models), 3.6))
    for ax, model in zip(axes, models):
        mine = [r for r in data if r["name"] == model]
        it = [int(r["iteration"]) for r in mine]
        ax.plot(it, [float(r["validation"]) for r in mine], color=OURS, label=mine[0]["validation_metric"])
        ax.set_xlabel("iteration")
        ax.set_ylabel(mine[0]["validation_metric"], color=OURS)
        train = ax.twinx() if "RMSE" not in mine[0]["validation_metric"] else ax
        train.plot(it, [float(r["training"]) for r in mine], color=PEER, linestyle="--", label=mine[0]["train_metric"])
        if train is not ax:
            train.set_ylabel(mine[0]["train_metric"], color=PEER)
        else:
            ax.set_ylabel("RMSE")
            ax.legend(fontsize=8)
        ax.set_title(model)
        ax.grid(alpha=0.3)
    fig.suptitle("MovieLens-100k u1: training (dashed) and validation metric per iteration", fontsize=10)
    save(fig, "learning_curves.png")


def time_per_iteration():
    data = rows("scale.csv")
    if not data:
        return skipped("time_per_iteration.png", 'bench/scale.sh "1 10 30"')
    n = [int(r["interactions"]) / 1e6 for r in data]
    s = [float(r["seconds_per_iteration"]) for r in data]
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.6))
    left.loglog(n, s, "o-", color=OURS, label="ials, 64 factors (measured)")
    left.loglog(n, [s[0] * x / n[0] for x in n], ":", color="grey", label="linear in the data, from the first point")
    left.set_xlabel("training interactions (millions)")
    left.set_ylabel("seconds per iteration")
    left.legend(fontsize=8)
    right.semilogx(n, [sec / (x * 1e6) * 1e6 for sec, x in zip(s, n)], "o-", color=OURS)
    right.set_ylim(bottom=0)
    right.set_xlabel("training interactions (millions)")
    right.set_ylabel("µs per interaction and iteration")
    for ax in (left, right):
        ax.grid(alpha=0.3, which="both")
        ax.set_xticks(n)
        ax.set_xticklabels([r["size"] for r in data])
    fig.suptitle("rec.train, ials with every default, 2 threads: the cost as the data grow", fontsize=10)
    save(fig, "time_per_iteration.png")


def serving_latency():
    data = rows("vector_search.csv")
    if not data:
        return skipped("serving_latency.png", "bench/vector_search.sh")
    fig, ax = plt.subplots(figsize=(6.5, 4))
    colours = {"rec.recommend": OURS, "pgvector exact": PEER, "HNSW ef_search 40": PEER2, "HNSW ef_search 100": PEER3}
    for method, colour in colours.items():
        mine = [r for r in data if r["method"] == method and r["filter"] == "100"]
        ax.loglog([int(r["size"]) for r in mine], [float(r["p50_ms"]) for r in mine], "o-", color=colour,
                  label=method + ("" if method in ("rec.recommend", "pgvector exact") else " (approximate)"))
    ax.set_xlabel("catalogue size (items)")
    ax.set_ylabel("in-server p50 ms, top 10")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    ax.set_title("Top 10 of 64 factors (66-d vectors), no filter", fontsize=10)
    save(fig, "serving_latency.png")


def paired_bars(ax, labels, ours, theirs, names, ylabel, title):
    """Ours beside the peer's, one pair per label."""
    x = range(len(labels))
    ax.bar([i - 0.2 for i in x], ours, 0.4, color=OURS, label=names[0])
    ax.bar([i + 0.2 for i in x], theirs, 0.4, color=PEER, label=names[1])
    ax.set_xticks(list(x))
    ax.set_xticklabels(labels, fontsize=8)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8)


def peers():
    explicit, implicit, vectors = rows("explicit.csv"), rows("implicit_synth.csv"), rows("vector_search.csv")
    if not (explicit and implicit and vectors):
        return skipped("peers.png", "bench/explicit.sh, bench/implicit.sh and bench/vector_search.sh")
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.9))
    paired_bars(axes[0], [f"{r['iterations']} iterations\nRMSE {r['rec_train_rmse']} / {r['libmf_rmse']}" for r in explicit],
                [float(r["rec_train_s"]) for r in explicit], [float(r["libmf_s"]) for r in explicit],
                ("CALL rec.train", "LIBMF mf-train"), "wall seconds, whole run", "Explicit, synth10m, 64 factors")
    paired_bars(axes[1], [f"{r['threads']} thread" + ("s" if r["threads"] != "1" else "") for r in implicit],
                [float(r["rec_train_s_per_iteration"]) for r in implicit],
                [float(r["implicit_s_per_iteration"] or "nan") for r in implicit],
                ("rec.train ials", "implicit AlternatingLeastSquares"), "seconds per iteration",
                "Implicit, synth10m, 64 factors, CG 3 steps")
    ax = axes[2]
    size = max(int(r["size"]) for r in vectors)
    methods = ["rec.recommend", "pgvector exact", "HNSW ef_search 40", "HNSW ef_search 100, iterative"]
    filters = ["100", "10", "1"]
    width = 0.2
    for m, (method, colour) in enumerate(zip(methods, (OURS, PEER, PEER2, PEER3))):
        for f, flt in enumerate(filters):
            found = [r for r in vectors if int(r["size"]) == size and r["method"] == method and r["filter"] == flt]
            if not found and method.endswith("iterative"):  # without a filter the iterative scan changes nothing
                found = [r for r in vectors if int(r["size"]) == size and r["method"] == "HNSW ef_search 100" and r["filter"] == flt]
            if not found:
                continue
            r = found[0]
            bar = ax.bar(f + (m - 1.5) * width, float(r["p50_ms"]), width, color=colour, label=method if f == 0 else None)
            ax.annotate(f"{float(r['mean_rows']):g}", (bar[0].get_x() + width / 2, float(r["p50_ms"])), ha="center",
                        va="bottom", fontsize=7)
    ax.set_yscale("log")
    ax.set_xticks(range(len(filters)))
    ax.set_xticklabels(["no filter", "10% of items pass", "1% pass"])
    ax.set_ylabel("in-server p50 ms (label: rows returned)")
    ax.set_title(f"Top 10 of {size:,} items, filtered", fontsize=10)
    ax.legend(fontsize=7)
    save(fig, "peers.png")


learning_curves()
time_per_iteration()
serving_latency()
peers()
