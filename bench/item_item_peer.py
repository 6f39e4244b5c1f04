#!/usr/bin/python3
"""The `implicit` library on the files bench/item_item.sh writes: its AlternatingLeastSquares (every
default: 100 factors, regularization 0.01, alpha 1, 15 iterations, CG) and its item-item recommenders
(CosineRecommender and BM25Recommender, K 20 as their default and K 100 as ours), each judged by
implicit.evaluation.ranking_metrics_at_k at 10 (the definitions rec.evaluate follows). The library is
built from its public source outside this repository and found on PYTHONPATH (never committed).

usage: PYTHONPATH=... /usr/bin/python3 bench/item_item_peer.py TRAIN TEST THREADS MODEL
TRAIN and TEST are "user item" lines (positives); MODEL is an index into the list below (one model per
process, so that the process's peak memory is that model's). Prints one tab-separated line:
  model precision ndcg train_seconds peak_memory_mb
where peak_memory_mb is how much the fit raised the process's peak resident memory (ru_maxrss).
"""
import os
import resource
import sys
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as implicit asks: its own threads only
import numpy as np
import scipy.sparse as sp

from implicit.als import AlternatingLeastSquares
from implicit.evaluation import ranking_metrics_at_k
from implicit.nearest_neighbours import BM25Recommender, CosineRecommender

train_file, test_file, threads, which = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
train = np.loadtxt(train_file, dtype=np.int64, ndmin=2)
test = np.loadtxt(test_file, dtype=np.int64, ndmin=2)
# Ids as dense indexes (rows and columns only for ids that occur, as pg_recommend numbers them): BM25's
# idf and average length count the matrix's rows, so empty rows of a sparse id space would change it.
for column in (0, 1):
    _, dense = np.unique(np.concatenate([train[:, column], test[:, column]]), return_inverse=True)
    train[:, column], test[:, column] = dense[:len(train)], dense[len(train):]
shape = (int(max(train[:, 0].max(), test[:, 0].max())) + 1, int(max(train[:, 1].max(), test[:, 1].max())) + 1)


def matrix(rows, dtype):
    m = sp.csr_matrix((np.ones(len(rows), dtype=dtype), (rows[:, 0], rows[:, 1])), shape=shape)
    m.sum_duplicates()
    m.data[:] = 1
    return m


def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


models = [
    ("implicit ALS (defaults)", lambda: AlternatingLeastSquares(num_threads=threads, random_state=42), np.float32),
    ("implicit CosineRecommender K=20", lambda: CosineRecommender(K=20, num_threads=threads), np.float64),
    ("implicit CosineRecommender K=100", lambda: CosineRecommender(K=100, num_threads=threads), np.float64),
    ("implicit BM25Recommender K=20", lambda: BM25Recommender(K=20, num_threads=threads), np.float64),
    ("implicit BM25Recommender K=100", lambda: BM25Recommender(K=100, num_threads=threads), np.float64),
]
if which >= len(models):
    sys.exit(1)
for name, make, dtype in models[which:which + 1]:
    user_items, test_items = matrix(train, dtype), matrix(test, dtype)
    model = make()
    before = peak_mb()
    start = time.perf_counter()
    model.fit(user_items, show_progress=False)
    seconds = time.perf_counter() - start
    grown = max(peak_mb() - before, 0.0)
    m = ranking_metrics_at_k(model, user_items, test_items, K=10, show_progress=False, num_threads=threads)
    print(f"{name}\t{m['precision']:.4f}\t{m['ndcg']:.4f}\t{seconds:.3f}\t{grown:.0f}")
