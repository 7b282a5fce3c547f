"""Swendsen–Wang clusters on an L×L periodic lattice, shared by the Ising and Potts
generators (Swendsen & Wang 1987, Phys. Rev. Lett. 58, 86)."""

from __future__ import annotations

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components


def swendsen_wang_clusters(
    spins: np.ndarray, bond_probability: np.ndarray, rng: np.random.Generator
) -> tuple[int, np.ndarray]:
    """Clusters of one Swendsen–Wang step for replicas ``spins`` of shape (R, L, L).

    Equal neighbours (right and lower, periodic) are bonded with probability
    ``bond_probability[r]`` of their replica; every replica's graph is labelled at once.
    Returns the number of clusters and each site's cluster label (flat, length R·L·L).
    """
    replicas, length, _ = spins.shape
    total = replicas * length * length
    index = np.arange(total, dtype=np.int64).reshape(replicas, length, length)
    p = bond_probability[:, None, None]
    right = (spins == np.roll(spins, -1, axis=2)) & (rng.random(spins.shape) < p)
    down = (spins == np.roll(spins, -1, axis=1)) & (rng.random(spins.shape) < p)
    # each site links to at most its right and lower neighbour: build the CSR graph directly
    targets = np.stack([np.roll(index, -1, axis=2), np.roll(index, -1, axis=1)], axis=-1)
    active = np.stack([right, down], axis=-1).reshape(total, 2)
    indptr = np.zeros(total + 1, dtype=np.int64)
    np.cumsum(active.sum(axis=1), out=indptr[1:])
    indices = targets.reshape(total, 2)[active]
    graph = csr_matrix(
        (np.ones(indices.size, dtype=np.int8), indices, indptr), shape=(total, total)
    )
    n_clusters, labels = connected_components(graph, directed=True, connection="weak")
    return int(n_clusters), labels
