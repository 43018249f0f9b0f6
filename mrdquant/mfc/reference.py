"""A normal-marrow reference for different-from-normal (DfN) MRD, and its file format.

:class:`NormalReference` holds a Gaussian mixture of the denominator events (strict
singlets, :mod:`mrdquant.mfc.dfn_singlets`) of normal and regenerating marrows in a panel's
compensated, transformed space (markers plus log
FSC-A/SSC-A), the novelty threshold calibrated on *held-out* normal marrows to a chosen
false-positive event rate, and the parameters of the population grouping. It is saved as
one ``.npz`` file of plain arrays plus a JSON header (never a pickle) that carries the
format version, the panel id and hash, the transforms, the training files' SHA-256, the
calibration, and the SHA-256 of the whole content, verified on load.

See ``docs/dfn.md``.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import io
import json
import math
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from .._version import __version__
from ..errors import ConfigError, InputError, ReferenceFileError
from .dfn_singlets import STRICT_SINGLET_K, strict_singlet_mask
from .novelty import GaussianMixtureModel, dissolve_normal_centred, fit_mixture, group_novel_events, score_mixture

__all__ = ["NormalReference", "REFERENCE_FORMAT", "REFERENCE_FORMAT_VERSION", "SCATTER_FEATURES"]

REFERENCE_FORMAT = "mrdquant-normal-reference"
#: version of the file layout written by :meth:`NormalReference.save`
REFERENCE_FORMAT_VERSION = 1
#: scatter parameters appended to the markers as features, ``log10(x) / log10(262144)``
SCATTER_FEATURES = ("FSC-A", "SSC-A")
_SCATTER_TOP = 262144.0
#: share of least-dense normal events (under the coarse mixture) that the second half of
#: the training sample is drawn from
_SPARSE_QUANTILE = 0.05
_ARRAYS = ("weights", "means", "covariances", "plot_events")


# --------------------------------------------------------------------------- panel / prepare glue


def _resolve_panel(panel):
    """A panel object from a name, path or panel (``mrdquant.load_panel`` when present)."""
    if not isinstance(panel, (str, os.PathLike)):
        return panel
    import mrdquant

    loader = getattr(mrdquant, "load_panel", None)
    if loader is not None:
        return loader(panel)
    from ..cytometry.panels import get_panel

    return get_panel(str(panel))


def panel_identity(panel) -> tuple[str, str, list[str]]:
    """``(panel_id, hash, fluorescence markers)`` of a panel.

    Uses the panel's own ``hash`` (sha256 of its file) when it has one; otherwise the sha256
    of its canonical channel list.
    """
    h = getattr(panel, "hash", None)
    fl = getattr(panel, "fluorescence", None)
    markers = [c.marker for c in fl] if fl is not None else list(panel.markers)
    if not h:
        canon = json.dumps(
            {"panel_id": panel.panel_id, "channels": [[c.name, c.marker, c.fluorochrome, c.kind] for c in panel.channels]},
            sort_keys=True,
            separators=(",", ":"),
        )
        h = hashlib.sha256(canon.encode()).hexdigest()
    return str(panel.panel_id), str(h), markers


def prepare_sample(sample, panel, channels: dict | None = None):
    """Compensated, transformed marker values and denominator mask of a sample
    (:func:`mrdquant.mfc.prepare`: the panel's channel resolution, QC and denominator).

    ``channels`` is the explicit marker -> ``$PnN`` mapping of :func:`mrdquant.mfc.prepare`
    (e.g. ``{"CD58": "APC-Cy7-A"}``) for files whose ``$PnS`` leaves a marker unnamed.
    """
    from .preparation import prepare

    return prepare(sample, panel, channels=channels)


def features_of(prepared, mask: np.ndarray | None = None) -> tuple[np.ndarray, list[str]]:
    """Feature matrix (markers then log scatter) of the events in ``mask`` (all by default)."""
    values = np.asarray(prepared.values)
    if mask is None:
        mask = np.ones(values.shape[0], bool)
    n = int(np.count_nonzero(mask))
    markers = list(prepared.markers)
    out = np.empty((n, len(markers) + len(SCATTER_FEATURES)))
    out[:, : len(markers)] = values[mask]
    for j, s in enumerate(SCATTER_FEATURES):
        raw = np.asarray(prepared.scatter[s], dtype=np.float64)[mask]
        out[:, len(markers) + j] = np.log10(np.clip(raw, 1.0, None)) / math.log10(_SCATTER_TOP)
    return out, markers + list(SCATTER_FEATURES)


def _is_prepared(sample) -> bool:
    """A :class:`~mrdquant.mfc.PreparedSample` (or anything shaped like one)."""
    return hasattr(sample, "denominator_mask") and hasattr(sample, "values") and hasattr(sample, "scatter")


def _sample_label(sample) -> tuple[str, str]:
    path = getattr(sample, "path", None)
    sha = ""
    try:
        sha = sample.sha256 or ""
    except Exception:  # in-memory samples have no file digest
        sha = ""
    return (str(path) if path is not None else "<in-memory sample>"), sha


# --------------------------------------------------------------------------- the reference


@dataclass(frozen=True)
class NormalReference:
    """Gaussian-mixture density of normal marrow with a calibrated novelty threshold.

    Attributes
    ----------
    panel_id, panel_hash : str
        The panel the reference was fitted for; samples of another panel are refused.
    markers : tuple of str
        Marker columns of the panel's prepared values, in order.
    features : tuple of str
        ``markers`` followed by :data:`SCATTER_FEATURES`.
    transforms : dict
        Transform of each feature (``kind`` and parameters).
    mixture : GaussianMixtureModel
    threshold : float, log density
        Events whose mixture log-density is below it are *novel* (calibrated on held-out
        normals to ``calibration["fp_event_rate"]``).
    calibration : dict
        ``fp_event_rate`` (target, fraction of normal events), ``achieved_fp_event_rate``,
        ``n_events`` and ``samples`` of the held-out calibration set, ``held_out``
        (``"samples"`` or ``"events"``), ``novel_events_per_sample`` and
        ``dfn_events_per_sample`` (after grouping) on each held-out normal.
    grouping : dict
        ``eps`` (transformed units) and ``min_samples`` (events) of DBSCAN.
    training : list of dict
        ``source``, ``sha256``, ``n_events``, ``denominator_events``, ``role`` ("fit" or
        "calibration") per training sample.
    plot_events : ndarray (n, n_features), float32
        A random subset of normal events, for plots only.
    parameters : dict
        Fit parameters (``n_components``, ``n_fit_events``, ``seed``, ...).
    mrdquant_version, created : str
    file_sha256 : str
        SHA-256 of the file the reference was loaded from ("" when fitted in memory).
    """

    panel_id: str
    panel_hash: str
    markers: tuple[str, ...]
    features: tuple[str, ...]
    transforms: dict
    mixture: GaussianMixtureModel
    threshold: float
    calibration: dict
    grouping: dict
    training: list
    plot_events: np.ndarray
    parameters: dict = field(default_factory=dict)
    mrdquant_version: str = __version__
    created: str = ""
    file_sha256: str = ""

    # ------------------------------------------------------------------ fitting
    @classmethod
    def fit(
        cls,
        samples: Sequence[Any],
        panel,
        *,
        n_components: int = 16,
        fp_event_rate: float = 1e-4,
        n_fit_events: int = 100_000,
        calibration_share: float = 0.3,
        eps: float = 0.25,
        min_samples: int = 10,
        lod_events: int = 20,
        seed: int = 0,
        channels: dict | None = None,
        singlet_k: float = STRICT_SINGLET_K,
    ) -> "NormalReference":
        """Fit a reference on normal / regenerating marrows of one panel.

        Parameters
        ----------
        samples : sequence of FlowSample, path or PreparedSample
            Normal marrows (no leukemic events), acquired with ``panel``.
        panel : str, path or Panel
        n_components, fp_event_rate, n_fit_events, calibration_share, eps, min_samples,
        lod_events, seed
            As in :meth:`fit_arrays`.
        channels : dict of str to str, optional
            Explicit marker -> ``$PnN`` mapping applied to every file, e.g.
            ``{"CD58": "APC-Cy7-A"}`` (as in :func:`mrdquant.quantify_mfc`); not used for
            samples that are already prepared.
        singlet_k : float, default 2.5, robust SDs
            Only strict singlets (:func:`mrdquant.mfc.dfn_singlets.strict_singlet_mask`)
            of each file's denominator are fitted and calibrated on; stored with the
            reference and used by :func:`mrdquant.quantify_dfn`.

        Returns
        -------
        NormalReference

        Raises
        ------
        InputError
            A sample cannot be read or lacks a panel channel, or too few events.
        ConfigError
            The mixture fit did not converge.
        """
        p = _resolve_panel(panel)
        pid, phash, _ = panel_identity(p)
        if not samples:
            raise InputError("NormalReference.fit: no samples given")
        mats, sources, transforms, markers = [], [], {}, None
        for s in samples:
            prep = s if _is_prepared(s) else prepare_sample(s, p, channels)
            strict, _ = strict_singlet_mask(prep.scatter, prep.denominator_mask, singlet_k)
            x, feats = features_of(prep, strict)
            x = x.astype(np.float32)  # halves the memory of many large training files
            if markers is None:
                markers = list(prep.markers)
                transforms = dict(getattr(prep, "transforms", {}) or _panel_transforms(p, markers))
            src, sha = _sample_label(prep.sample)
            mats.append(x)
            sources.append({"source": src, "sha256": sha, "n_events": int(prep.values.shape[0])})
        for m in SCATTER_FEATURES:
            transforms[m] = {"kind": "log10_scaled", "top": _SCATTER_TOP}
        return cls.fit_arrays(
            mats,
            feats,
            n_markers=len(markers),
            panel_id=pid,
            panel_hash=phash,
            transforms=transforms,
            sources=sources,
            n_components=n_components,
            fp_event_rate=fp_event_rate,
            n_fit_events=n_fit_events,
            calibration_share=calibration_share,
            eps=eps,
            min_samples=min_samples,
            lod_events=lod_events,
            seed=seed,
            singlet_k=singlet_k,
        )

    @classmethod
    def fit_arrays(
        cls,
        matrices: Sequence[np.ndarray],
        features: Sequence[str],
        *,
        n_markers: int | None = None,
        panel_id: str = "",
        panel_hash: str = "",
        transforms: dict | None = None,
        sources: Sequence[dict] | None = None,
        n_components: int = 16,
        fp_event_rate: float = 1e-4,
        n_fit_events: int = 100_000,
        calibration_share: float = 0.3,
        eps: float = 0.25,
        min_samples: int = 10,
        lod_events: int = 20,
        seed: int = 0,
        singlet_k: float | None = None,
    ) -> "NormalReference":
        """Fit a reference from per-sample feature matrices of normal denominator events.

        Parameters
        ----------
        matrices : sequence of ndarray (n_events_i, n_features), transformed units
            One matrix per normal marrow (denominator events only).
        features : sequence of str
            Column names; the first ``n_markers`` are markers.
        n_markers : int, optional
            Default: all features.
        panel_id, panel_hash : str
        transforms : dict, optional
            Feature -> transform description (stored, not applied).
        sources : sequence of dict, optional
            Per matrix ``source``, ``sha256``, ``n_events``.
        n_components : int, default 16
            Mixture components.
        fp_event_rate : float, default 1e-4, fraction of normal events
            Calibrated false-positive rate of the per-event novelty call.
        n_fit_events : int, default 100,000, events
            Events drawn (equally per fitting sample) to fit the mixture.
        calibration_share : float, default 0.3
            Share of the samples held out for calibration (at least one sample when there
            are two or more; with one sample, that share of its events).
        eps : float, default 0.25, transformed units
            DBSCAN radius for grouping novel events.
        min_samples : int, default 10, events
            DBSCAN core-point neighbours.
        lod_events : int, default 20, events
            Minimum population size used when measuring the calibration samples' DfN events.
        seed : int, default 0
        singlet_k : float, optional, robust SDs
            The strict-singlet cut the matrices were selected with, stored in
            ``parameters["singlet_k"]`` for :func:`mrdquant.quantify_dfn` (default there:
            :data:`~mrdquant.mfc.dfn_singlets.STRICT_SINGLET_K`).

        Returns
        -------
        NormalReference

        Raises
        ------
        InputError
            Inconsistent matrices, non-finite values or too few events.
        ConfigError
            Out-of-range parameters, or the mixture fit did not converge.
        """
        feats = [str(f) for f in features]
        n_markers = len(feats) if n_markers is None else int(n_markers)
        if not 0 < fp_event_rate < 0.5:
            raise ConfigError(f"fp_event_rate={fp_event_rate!r}: expected a fraction between 0 and 0.5")
        if not 0 < calibration_share < 1:
            raise ConfigError(f"calibration_share={calibration_share!r}: expected a fraction between 0 and 1")
        mats = [np.asarray(m) for m in matrices]  # float32 kept as is (memory); scored in float64
        if not mats:
            raise InputError("NormalReference: no normal samples given")
        srcs = list(sources) if sources is not None else [{"source": f"matrix {i}", "sha256": "", "n_events": int(m.shape[0])} for i, m in enumerate(mats)]
        for i, m in enumerate(mats):
            if m.ndim != 2 or m.shape[1] != len(feats):
                raise InputError(f"{srcs[i]['source']}: expected {len(feats)} feature columns {feats}, got shape {m.shape}")
            if m.dtype.kind != "f" or not np.all(np.isfinite(m)):
                raise InputError(f"{srcs[i]['source']}: feature values contain NaN or infinite values")
        rng = np.random.default_rng(seed)
        n = len(mats)
        if n >= 2:
            n_cal = min(n - 1, max(1, int(round(calibration_share * n))))
            order = rng.permutation(n)
            cal_idx = set(int(i) for i in order[:n_cal])
            fit_parts = [mats[i] for i in range(n) if i not in cal_idx]
            cal_parts = [mats[i] for i in sorted(cal_idx)]
            held_out = "samples"
        else:
            cal_idx = set()
            perm = rng.permutation(mats[0].shape[0])
            k = int(round(calibration_share * perm.size))
            cal_parts = [mats[0][np.sort(perm[:k])]]
            fit_parts = [mats[0][np.sort(perm[k:])]]
            held_out = "events"
        # training sample: half uniform, half from the least dense 5% of normal events
        # under a first, coarse mixture, so that rare normal populations and the tails
        # of common ones get components of their own (novelty, not abundance, matters)
        per = max(1, n_fit_events // (2 * len(fit_parts)))
        uniform, sparse = [], []
        for m in fit_parts:
            take = min(per, m.shape[0])
            uniform.append(m[np.sort(rng.choice(m.shape[0], take, replace=False))])
        uni = np.concatenate(uniform)
        coarse = fit_mixture(uni, max(2, n_components // 2), seed=seed)
        for m in fit_parts:
            dens = score_mixture(m, coarse)[0]
            low = np.flatnonzero(dens < np.quantile(dens, _SPARSE_QUANTILE))
            take = min(per, low.size)
            sparse.append(m[np.sort(rng.choice(low, take, replace=False))])
        fit_x = np.concatenate([uni] + sparse).astype(np.float64)
        mixture = fit_mixture(fit_x, n_components, seed=seed)

        cal_scores = [score_mixture(m, mixture)[0] for m in cal_parts]
        allc = np.concatenate(cal_scores)
        if allc.size == 0:
            raise InputError("NormalReference: no calibration events")
        r = max(1, int(math.floor(fp_event_rate * allc.size)))
        # novel = log-density strictly below the r-th lowest held-out value
        threshold = float(np.partition(allc, r - 1)[r - 1])
        achieved = float(np.count_nonzero(allc < threshold) / allc.size)
        novel_per, dfn_per = [], []
        for m, sc in zip(cal_parts, cal_scores):
            nov = sc < threshold
            novel_per.append(int(nov.sum()))
            lab = group_novel_events(m[nov], eps=eps, min_samples=min_samples, min_cluster_size=lod_events, seed=seed)
            lab, _ = dissolve_normal_centred(m[nov], lab, mixture, threshold)
            dfn_per.append(int(np.count_nonzero(lab >= 0)))
        per_plot = max(1, 20_000 // len(fit_parts))
        plot_events = np.concatenate(
            [m[np.sort(rng.choice(m.shape[0], min(per_plot, m.shape[0]), replace=False))] for m in fit_parts]
        ).astype(np.float32)
        k = r
        training = []
        for i, s in enumerate(srcs):
            row = dict(s)
            row["denominator_events"] = int(mats[i].shape[0])
            row["role"] = "calibration" if i in cal_idx else ("fit+calibration" if held_out == "events" else "fit")
            training.append(row)
        calibration = {
            "fp_event_rate": float(fp_event_rate),
            "achieved_fp_event_rate": achieved,
            "n_events": int(allc.size),
            "samples": len(cal_parts),
            "held_out": held_out,
            "rank": int(k),
            "novel_events_per_sample": novel_per,
            "dfn_events_per_sample": dfn_per,
            "lod_events": int(lod_events),
        }
        if k < 5:
            calibration["warning"] = (
                f"threshold set by the {k}-th lowest log-density of {allc.size} held-out normal events; "
                "more held-out normal events make it more precise"
            )
        tr = dict(transforms or {})
        return cls(
            panel_id=str(panel_id),
            panel_hash=str(panel_hash),
            markers=tuple(feats[:n_markers]),
            features=tuple(feats),
            transforms=tr,
            mixture=mixture,
            threshold=threshold,
            calibration=calibration,
            grouping={"eps": float(eps), "min_samples": int(min_samples)},
            training=training,
            plot_events=plot_events,
            parameters={
                "n_components": int(n_components),
                "n_fit_events": int(fit_x.shape[0]),
                "calibration_share": float(calibration_share),
                "seed": int(seed),
                "method": "gaussian_mixture_full_covariance",
                **({} if singlet_k is None else {"singlet_k": float(singlet_k)}),
            },
            created=_dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat(),
        )

    # ------------------------------------------------------------------ scoring
    def score(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Log-density, nearest mixture component and its squared Mahalanobis distance.

        Parameters
        ----------
        x : ndarray (n_events, n_features), transformed units, columns :attr:`features`

        Returns
        -------
        score : ndarray (n_events,), float64, log density (lower = more abnormal)
        nearest : ndarray (n_events,), int32
        mahalanobis_sq : ndarray (n_events,), float64
        """
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != len(self.features):
            raise InputError(
                f"scoring: events have shape {x.shape}; the reference expects {len(self.features)} features {list(self.features)}"
            )
        return score_mixture(x, self.mixture)

    def is_novel(self, x: np.ndarray) -> np.ndarray:
        """Boolean per event: log-density below :attr:`threshold`."""
        return self.score(x)[0] < self.threshold

    def check_panel(self, panel, where: str = "") -> None:
        """Refuse a panel other than the reference's (id, hash or markers differ).

        Raises
        ------
        ReferenceFileError
        """
        pid, phash, markers = panel_identity(panel)
        pre = f"{where}: " if where else ""
        if pid != self.panel_id or phash != self.panel_hash:
            raise ReferenceFileError(
                f"{pre}reference was fitted for panel {self.panel_id!r} (hash {self.panel_hash[:12]}), "
                f"the sample uses panel {pid!r} (hash {phash[:12]}); fit a reference for this panel"
            )
        if list(markers) != list(self.markers):
            raise ReferenceFileError(f"{pre}reference markers {list(self.markers)} differ from the panel's {markers}")

    # ------------------------------------------------------------------ file format
    def _header(self) -> dict:
        return {
            "format": REFERENCE_FORMAT,
            "format_version": REFERENCE_FORMAT_VERSION,
            "mrdquant_version": self.mrdquant_version,
            "created": self.created,
            "panel_id": self.panel_id,
            "panel_hash": self.panel_hash,
            "markers": list(self.markers),
            "features": list(self.features),
            "transforms": self.transforms,
            "threshold": repr(float(self.threshold)),
            "calibration": self.calibration,
            "grouping": self.grouping,
            "training": self.training,
            "parameters": self.parameters,
        }

    def _arrays(self) -> dict[str, np.ndarray]:
        return {
            "weights": self.mixture.weights,
            "means": self.mixture.means,
            "covariances": self.mixture.covariances,
            "plot_events": self.plot_events,
        }

    def save(self, path: "str | os.PathLike") -> Path:
        """Write the reference as one ``.npz`` (arrays + JSON header), atomically.

        Returns
        -------
        Path
        """
        from ..io.store import atomic_path

        header = self._header()
        arrays = {k: np.ascontiguousarray(v) for k, v in self._arrays().items()}
        header["content_sha256"] = _content_hash(header, arrays)
        blob = json.dumps(header, sort_keys=True, indent=1).encode()
        target = Path(path)
        with atomic_path(target) as tmp:
            with open(tmp, "wb") as fh:
                np.savez(fh, header=np.frombuffer(blob, dtype=np.uint8), **arrays)
        return target

    @classmethod
    def load(cls, path: "str | os.PathLike") -> "NormalReference":
        """Read a reference written by :meth:`save`, verifying format, version and hash.

        Raises
        ------
        ReferenceFileError
            Not a reference file, a newer format version, missing arrays, or content that
            does not match the stored SHA-256 (edited or corrupted).
        """
        p = Path(path)
        if not p.is_file():
            raise ReferenceFileError(f"{p}: no such reference file")
        try:
            data = p.read_bytes()  # read once: hashed for provenance and parsed from memory
            with np.load(io.BytesIO(data), allow_pickle=False) as z:
                names = set(z.files)
                if "header" not in names:
                    raise ReferenceFileError(f"{p}: not a mrdquant normal reference (no 'header' entry)")
                header = json.loads(bytes(z["header"]).decode())
                missing = [a for a in _ARRAYS if a not in names]
                if missing:
                    raise ReferenceFileError(f"{p}: reference lacks array(s) {missing}")
                arrays = {a: np.ascontiguousarray(z[a]) for a in _ARRAYS}
        except ReferenceFileError:
            raise
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, UnicodeDecodeError) as exc:
            raise ReferenceFileError(f"{p}: not a readable mrdquant normal reference ({type(exc).__name__}: {exc})") from None
        if not isinstance(header, dict) or header.get("format") != REFERENCE_FORMAT:
            raise ReferenceFileError(f"{p}: header 'format' is {header.get('format') if isinstance(header, dict) else None!r}, expected {REFERENCE_FORMAT!r}")
        ver = header.get("format_version")
        if not isinstance(ver, int) or ver < 1 or ver > REFERENCE_FORMAT_VERSION:
            raise ReferenceFileError(
                f"{p}: reference format_version {ver!r}; this mrdquant ({__version__}) reads versions 1-{REFERENCE_FORMAT_VERSION}"
            )
        stored = header.pop("content_sha256", None)
        actual = _content_hash(header, arrays)
        if stored != actual:
            raise ReferenceFileError(
                f"{p}: content SHA-256 {actual[:16]}... does not match the stored {str(stored)[:16]}...: "
                "the reference was modified or corrupted after it was written; refit or restore it"
            )
        try:
            mixture = GaussianMixtureModel.from_arrays(arrays["weights"], arrays["means"], arrays["covariances"])
            return cls(
                panel_id=header["panel_id"],
                panel_hash=header["panel_hash"],
                markers=tuple(header["markers"]),
                features=tuple(header["features"]),
                transforms=header["transforms"],
                mixture=mixture,
                threshold=float(header["threshold"]),
                calibration=header["calibration"],
                grouping=header["grouping"],
                training=header["training"],
                plot_events=arrays["plot_events"],
                parameters=header["parameters"],
                mrdquant_version=header["mrdquant_version"],
                created=header["created"],
                file_sha256=hashlib.sha256(data).hexdigest(),
            )
        except (KeyError, InputError, TypeError, ValueError) as exc:
            raise ReferenceFileError(f"{p}: inconsistent reference content ({exc})") from None

    def summary(self) -> dict:
        """Key facts for a log or a report (panel, sizes, calibration)."""
        return {
            "panel_id": self.panel_id,
            "panel_hash": self.panel_hash,
            "features": list(self.features),
            "n_components": self.mixture.n_components,
            "threshold": self.threshold,
            "training_samples": len(self.training),
            **{f"calibration_{k}": v for k, v in self.calibration.items()},
        }


def _panel_transforms(panel, markers) -> dict:
    tr = getattr(panel, "transforms", None)
    if isinstance(tr, dict):
        return {m: _jsonable(tr.get(m)) for m in markers}
    return {m: None for m in markers}


def _jsonable(obj):
    if obj is None or isinstance(obj, (str, int, float, bool, dict, list)):
        return obj
    d = getattr(obj, "__dict__", None)
    return {k: v for k, v in d.items() if not k.startswith("_")} if d else repr(obj)


def _content_hash(header: dict, arrays: dict[str, np.ndarray]) -> str:
    h = hashlib.sha256()
    h.update(json.dumps({k: v for k, v in header.items() if k != "content_sha256"}, sort_keys=True, separators=(",", ":")).encode())
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        h.update(f"|{name}|{a.dtype.str}|{a.shape}|".encode())
        h.update(a.tobytes())
    return h.hexdigest()
