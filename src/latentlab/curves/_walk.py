"""The local-principal-curve recursion (one half of the walk) and its failure detectors.

Private to :mod:`latentlab.curves.lpc`, which documents the algorithm. This
module holds the kernel moments, one half-walk, the coverage record that
notices when a walk comes back to ground it has already covered (a jump to
another branch or arm, a loop, or a walk turning back on itself), and the
merging of near-duplicate points.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: A point further than this many bandwidths from every observation has an
#: empty neighbourhood (its kernel weights are all below exp(-0.5 * 6**2)).
NEIGHBOURHOOD_RADIUS = 6.0

#: A walk "revisits" when a new point comes within ``REVISIT_RADIUS`` bandwidths
#: of a curve point that lies more than ``REVISIT_GAP`` bandwidths away along
#: the path. A smooth curve never does that unless it bends back on itself
#: within about half a bandwidth, which the kernel cannot resolve anyway.
REVISIT_RADIUS = 1.0
REVISIT_GAP = 3.0

#: The boundary rule compares a step's increment with at most this many steps
#: of arc length (LPCM: with the whole arc length so far).
BOUNDARY_STEPS = 20.0

#: With ``on_revisit="stop"``, a revisit of ground covered at most this many
#: bandwidths earlier along the path is a short turn-back (the walk reversing,
#: usually at a tip): the way back is cut off and the half stops as
#: "turned_back", which is not a failure. Jumps and loops come back to ground
#: covered much earlier.
TURN_BACK_GAP = 6.0

#: At ``max_iter`` a half counts as truncated (rather than creeping at a tip)
#: when its last ``TRAVEL_WINDOW`` points moved it by at least one step.
TRAVEL_WINDOW = 5


def local_moments(X, x, bandwidth):
    """Kernel-weighted mean and covariance at ``x``; weights in log space."""
    diff = (X - x) / bandwidth
    log_weights = -0.5 * np.einsum("ij,ij->i", diff, diff)
    top = log_weights.max()
    if top < -0.5 * NEIGHBOURHOOD_RADIUS**2:
        return None, None
    weights = np.exp(log_weights - top)
    weights /= weights.sum()
    mu = weights @ X
    centred = X - mu
    covariance = (centred * weights[:, None]).T @ centred
    return mu, covariance


def effective_neighbours(X, x, bandwidth):
    """Kish's effective number of observations in the kernel at ``x``."""
    diff = (X - x) / bandwidth
    log_weights = -0.5 * np.einsum("ij,ij->i", diff, diff)
    weights = np.exp(log_weights - log_weights.max())
    return float(weights.sum() ** 2 / np.sum(weights**2))


def top_direction(covariance):
    _, vectors = np.linalg.eigh(covariance)
    return vectors[:, -1]


@dataclass
class Revisit:
    """The first time a walk came back to covered ground."""

    distance: float  # from the new point to the covered point
    path_gap: float  # arc length between them along the walk
    point: np.ndarray


class Coverage:
    """Curve points found so far (both halves) with their signed arc positions."""

    def __init__(self, n_features, capacity, radius, gap):
        self.points = np.empty((capacity, n_features))
        self.arc = np.empty(capacity)
        self.n = 0
        self.radius, self.gap = radius, gap
        self.first: Revisit | None = None
        self.count = 0

    def add(self, point, arc):
        if self.n == len(self.arc):  # grow (only when the caller under-sized it)
            self.points = np.vstack([self.points, np.empty_like(self.points)])
            self.arc = np.concatenate([self.arc, np.empty_like(self.arc)])
        self.points[self.n], self.arc[self.n] = point, arc
        self.n += 1

    def check(self, point, arc):
        """The :class:`Revisit` if ``point`` comes back to covered ground, else None."""
        far = np.abs(self.arc[: self.n] - arc) > self.gap
        if not far.any():
            return None
        diff = self.points[: self.n][far] - point
        d2 = np.einsum("ij,ij->i", diff, diff)
        nearest = int(np.argmin(d2))
        distance = float(np.sqrt(d2[nearest]))
        if distance >= self.radius:
            return None
        path_gap = float(np.abs(self.arc[: self.n][far][nearest] - arc))
        return Revisit(distance, path_gap, np.array(point, dtype=float))

    def record(self, revisit):
        self.count += 1
        if self.first is None:
            self.first = revisit


def walk(X, x_start, mu_start, gamma_start, options, coverage, sign):
    """One half of the curve.

    Returns the stored points (without the start), the step lengths and why
    the half stopped: "converged", "max_iter", "empty_neighbourhood", or
    "revisit" / "turned_back" (only when ``options["on_revisit"] == "stop"``).
    """
    h, t0, pen, mode = options["h"], options["t0"], options["pen"], options["mode"]
    stop_revisit = options["on_revisit"] == "stop"
    max_iter = options["max_iter"]
    stored, steps = [], []
    gamma_prev = gamma_start
    multiplier = 1.0
    lam_prev = 0.0
    mu_prev = mu_start
    x = mu_start + t0 * gamma_start
    travelled = 0.0

    outcome = "revisit"

    def keep(point, step):
        nonlocal travelled, outcome
        travelled += step
        revisit = coverage.check(point, sign * travelled)
        if revisit is not None:
            if stop_revisit and revisit.path_gap <= TURN_BACK_GAP * h:
                # a short turn-back (typically at a tip): cut the way back, stop
                turn = travelled - 0.5 * revisit.path_gap
                n_keep = int(np.searchsorted(np.cumsum(steps), turn, side="right"))
                del stored[n_keep:], steps[n_keep:]
                outcome = "turned_back"
                return False
            coverage.record(revisit)
            if stop_revisit:
                outcome = "revisit"
                return False
        stored.append(point)
        steps.append(step)
        coverage.add(point, sign * travelled)
        return True

    if mode == "morphseq":  # the first stepped point counts as the first iteration
        if not keep(x, float(np.linalg.norm(x - x_start))):
            return stored, steps, outcome
        max_iter -= 1
    for _ in range(max_iter):
        mu, covariance = local_moments(X, x, h * multiplier)
        if mu is None:
            return stored, steps, "empty_neighbourhood"
        gamma = top_direction(covariance)
        norm_prev = max(float(np.linalg.norm(gamma_prev)), 1e-300)
        cosine = float(gamma @ gamma_prev) / norm_prev
        if cosine < 0:
            gamma, cosine = -gamma, -cosine
        if pen > 0:
            a = min(cosine, 1.0) ** pen
            gamma = a * gamma + (1 - a) * gamma_prev
            if mode == "morphseq":
                gamma = gamma / np.linalg.norm(gamma)
        if mode == "lpcm":
            increment = float(np.linalg.norm(mu - mu_prev))
            lam = lam_prev + increment
            if not keep(mu, increment):
                return stored, steps, outcome
            ratio = increment / max(lam + lam_prev, 1e-300)
            creep = options["creep_stop"] * t0
            if ratio < options["stop_tol"] or increment < creep:
                return stored, steps, "converged"
            if len(stored) >= 3 and np.linalg.norm(mu - stored[-3]) < creep:
                # a 2-cycle at a tip (the mean hops back and forth): also creeping
                del stored[-2:], steps[-2:]
                return stored, steps, "converged"
            # LPCM compares the increment with the whole arc length, so after
            # ~100 steps every ordinary step looks like a boundary; ours caps
            # the reference length at BOUNDARY_STEPS steps.
            local_ratio = increment / max(
                min(lam + lam_prev, BOUNDARY_STEPS * t0), 1e-300
            )
            if options["boundary"] and local_ratio < options["boundary"]:
                multiplier = 0.995 * multiplier
            else:
                multiplier = min(1.01 * multiplier, 1.0)
            lam_prev, mu_prev = lam, mu
            x = mu + t0 * gamma
        else:  # morphseq: stop on ||mu(x) - x||, store the stepped point
            if np.linalg.norm(mu - x) < options["tol"]:
                return stored, steps, "converged"
            x_new = mu + t0 * gamma
            if not keep(x_new, float(np.linalg.norm(x_new - x))):
                return stored, steps, outcome
            x = x_new
        gamma_prev = gamma
    return stored, steps, "max_iter"


def still_travelling(stored, t0):
    """Whether the last few points of a half still moved by at least one step."""
    if len(stored) < 2:
        return bool(stored)
    window = stored[-min(TRAVEL_WINDOW, len(stored)) :]
    return float(np.linalg.norm(window[-1] - window[0])) >= t0


def collapse(points, start_index, min_distance):
    """Keep points ``min_distance`` from the last kept one, the start, the true end."""
    keep = [0]
    for i in range(1, len(points)):
        far = np.linalg.norm(points[i] - points[keep[-1]]) >= min_distance
        last = i == len(points) - 1
        if last and not far and len(keep) > 1 and keep[-1] != start_index:
            keep[-1] = i  # replace the last kept point by the true end
        elif far or i == start_index or last:
            keep.append(i)
    keep = np.array(keep)
    return points[keep], int(np.searchsorted(keep, start_index))
