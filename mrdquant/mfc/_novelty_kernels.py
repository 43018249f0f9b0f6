"""numba kernel of Gaussian-mixture novelty scoring (see :mod:`mrdquant.mfc.novelty`).

For every event ``x`` (a row of ``x``) and mixture component ``k`` with mean ``mu_k`` and
upper-triangular precision Cholesky factor ``P_k`` (scikit-learn's
``precisions_cholesky_``, so that ``Sigma_k^-1 = P_k P_k^T``)::

    y_k   = x @ P_k - mu_k @ P_k                   (triangular: y_j = sum_{m<=j})
    l_k   = log w_k - d/2 log(2 pi) + sum_j log P_k[j, j] - ||y_k||^2 / 2
    score = log sum_k exp(l_k)                     (max-shifted log-sum-exp)

which is ``GaussianMixture.score_samples``. Components are visited in ``order`` (largest
weight first). ``||y_k||^2`` only grows as columns ``j`` are added, so a component is
abandoned as soon as ``l_k`` is certain to lie more than ``CUTOFF`` = 40 below the best
component so far: its share of the sum is then below ``e^-40`` (4e-18) and it is counted
as 0 -- a relative change of the density below ``n_components * 4e-18``. Most events sit
in one dense population and leave the far components after a few columns, which is where
the speed comes from. The kernel also returns the component with the largest ``l_k`` and
its squared Mahalanobis distance ``||y_k||^2``. ``prange`` runs over fixed chunks of
events; chunk ``c`` uses only ``scratch[c]``. No allocation inside the loop.
"""

from __future__ import annotations

import math

from .._numba import pnjit, prange


CUTOFF = 40.0


@pnjit(error_model="numpy")
def _gmm_score(x, shift, prec_chol, log_const, order, chunk, scratch, score, best, best_d2):
    """``shift[k] = mu_k @ P_k``; ``scratch`` is (n_chunks, n_components)."""
    n = x.shape[0]
    d = x.shape[1]
    n_comp = shift.shape[0]
    n_chunks = scratch.shape[0]
    for c in prange(n_chunks):
        start = c * chunk
        stop = min(n, start + chunk)
        logp = scratch[c]
        for i in range(start, stop):
            top = -math.inf
            arg = 0
            arg_d2 = 0.0
            for kk in range(n_comp):
                k = order[kk]
                # abandon once log_const - q/2 < top - CUTOFF
                lim = 2.0 * (log_const[k] - top + CUTOFF)
                q = 0.0
                dropped = False
                for j in range(d):
                    s = -shift[k, j]
                    for m in range(j + 1):
                        s += x[i, m] * prec_chol[k, m, j]
                    q += s * s
                    if q > lim:
                        dropped = True
                        break
                if dropped:
                    logp[k] = -math.inf
                    continue
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
