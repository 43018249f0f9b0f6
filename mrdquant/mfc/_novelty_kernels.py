"""numba kernel of Gaussian-mixture novelty scoring (see :mod:`mrdquant.mfc.novelty`).

For every event ``x`` (a row of ``x``) and mixture component ``k`` with mean ``mu_k`` and
upper-triangular precision Cholesky factor ``P_k`` (scikit-learn's
``precisions_cholesky_``, so that ``Sigma_k^-1 = P_k P_k^T``)::

    y_k   = (x - mu_k) @ P_k                       (triangular: y_j = sum_{i<=j})
    l_k   = log w_k - d/2 log(2 pi) + sum_j log P_k[j, j] - ||y_k||^2 / 2
    score = log sum_k exp(l_k)                     (max-shifted log-sum-exp)

which is ``GaussianMixture.score_samples``. The kernel also returns the component with
the largest ``l_k`` (the nearest normal population in the mixture's own metric) and its
squared Mahalanobis distance ``||y_k||^2``. ``prange`` runs over fixed chunks of events;
chunk ``c`` uses only ``scratch[c]``. No allocation inside the loop.
"""

from __future__ import annotations

import math

from .._numba import pnjit, prange


@pnjit(error_model="numpy")
def _gmm_score(x, means, prec_chol, log_const, chunk, scratch, score, best, best_d2):
    n = x.shape[0]
    d = x.shape[1]
    n_comp = means.shape[0]
    n_chunks = scratch.shape[0]
    for c in prange(n_chunks):
        start = c * chunk
        stop = min(n, start + chunk)
        diff = scratch[c, 0]
        logp = scratch[c, 1]
        for i in range(start, stop):
            top = -math.inf
            arg = 0
            arg_d2 = 0.0
            for k in range(n_comp):
                for j in range(d):
                    diff[j] = x[i, j] - means[k, j]
                q = 0.0
                for j in range(d):
                    s = 0.0
                    for m in range(j + 1):
                        s += diff[m] * prec_chol[k, m, j]
                    q += s * s
                v = log_const[k] - 0.5 * q
                logp[k] = v
                if v > top:
                    top = v
                    arg = k
                    arg_d2 = q
            if top == -math.inf or top != top:
                score[i] = top
            else:
                acc = 0.0
                for k in range(n_comp):
                    acc += math.exp(logp[k] - top)
                score[i] = top + math.log(acc)
            best[i] = arg
            best_d2[i] = arg_d2
