#!/usr/bin/python3
"""The plain computation test/shell/item_item_reference.sh compares pg_recommend with (issue 17, check 1).

usage: item_item_reference.py ML100K_DIR OUT_DIR LAMBDA NEIGHBOURS
Reads u1.base / u1.test (ratings >= 4 as positives, value 1) and the stored weights the shell script
wrote to OUT_DIR/ii_ease.weights and OUT_DIR/ii_knn.weights, and prints:
  ease_precision numpy_ease_precision largest_ease_weight_difference
  knn_precision numpy_knn_precision largest_knn_weight_difference
EASE^R (Steck 2019): P = (XᵀX + λI)⁻¹, B = -P / diag(P), diag(B) = 0, in double precision. Item-kNN:
cosine of the item columns of X, each row keeping its NEIGHBOURS largest (the item itself among them).
precision@10 as rec.evaluate and the implicit library define it: for each user with training items and
a positive test item, the top 10 unseen items by score (ties to the lower item id); Σ hits / Σ min(10,
positives), test items the model never saw counting as positives.
"""
import sys

import numpy as np

ml, out, lam, neighbours = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])


def positives(path):
    rows = np.loadtxt(path, dtype=np.int64, usecols=(0, 1, 2))
    return rows[rows[:, 2] >= 4][:, :2]


train, test = positives(f"{ml}/u1.base"), positives(f"{ml}/u1.test")
users, items = np.unique(train[:, 0]), np.unique(train[:, 1])
user_index = {u: n for n, u in enumerate(users)}
item_index = {i: n for n, i in enumerate(items)}
x = np.zeros((len(users), len(items)))
for u, i in train:
    x[user_index[u], item_index[i]] = 1.0


def precision(scores):
    hits = divisor = 0.0
    wanted = {}
    for u, i in test:
        wanted.setdefault(u, set()).add(i)
    for u, liked in wanted.items():
        if u not in user_index:
            continue
        row = scores[user_index[u]].copy()
        row[x[user_index[u]] > 0] = -np.inf
        order = np.lexsort((np.arange(len(items)), -row))[:10]
        hits += sum(1 for n in order if items[n] in liked)
        divisor += min(10, len(liked))
    return hits / divisor


def stored(name):
    """The weights as the shell script exported them: (item id, {neighbour index: weight})."""
    rows = []
    with open(f"{out}/{name}.weights") as f:
        for line in f:
            item, listed, weights = line.rstrip("\n").split("\t")
            idx = [int(v) for v in listed.strip("{}").split(",")] if listed != "{}" else []
            w = [float(v) for v in weights.strip("{}").split(",")] if weights != "{}" else []
            rows.append((int(item), dict(zip(idx, w))))
    return rows


def pg_precision(name):
    with open(f"{out}/{name}.precision") as f:
        return float(f.read())


# EASE
gram = x.T @ x
p = np.linalg.inv(gram + lam * np.eye(len(items)))
b = -p / np.diag(p)[np.newaxis, :]
np.fill_diagonal(b, 0.0)
ease_rows = stored("ii_ease")
assert [r[0] for r in ease_rows] == list(items), "the stored items are the training items"
ease_gap = max(abs(w - b[n, j]) for n, (_, row) in enumerate(ease_rows) for j, w in row.items())
print(pg_precision("ii_ease"), precision(x @ b), ease_gap)

# item-kNN, cosine
norms = np.sqrt((x * x).sum(axis=0))
similar = (x.T @ x) / np.outer(norms, norms)
knn = np.zeros_like(similar)
for n in range(len(items)):
    order = np.lexsort((np.arange(len(items)), -similar[n]))[:neighbours]
    knn[n, order] = similar[n, order]
knn_rows = stored("ii_knn")
knn_gap = 0.0
for n, (_, row) in enumerate(knn_rows):
    for j, w in row.items():
        knn_gap = max(knn_gap, abs(w - similar[n, j]))
    # The kept ones are the row's largest: none left out is larger than the smallest kept.
    if row and len(row) == neighbours:
        smallest = min(row.values())
        others = np.delete(similar[n], list(row.keys()))
        knn_gap = max(knn_gap, max(0.0, others.max(initial=-np.inf) - smallest))
print(pg_precision("ii_knn"), precision(x @ knn), knn_gap)
