"""Clusters of accounts from the linkage graph: connected components, refined by Leiden.

Accounts and indicator values are the nodes of one bipartite graph; Leiden (modularity, fixed
seed) splits large components into communities where links are dense. Only account nodes are
reported. Cost: igraph and leidenalg are C++; a graph of a million edges clusters in seconds.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import igraph as ig
import leidenalg
import numpy as np
import pyarrow as pa


@dataclass(frozen=True)
class Clustering:
    """Cluster membership per account, with component ids for reference."""

    accounts: list[str]
    cluster: np.ndarray  # cluster index per account; singletons get their own
    component: np.ndarray

    def table(self) -> pa.Table:
        """Membership as a table: account_id, cluster_id, component_id, cluster_size."""
        sizes = np.bincount(self.cluster) if len(self.cluster) else np.zeros(0, dtype=int)
        return pa.table(
            {
                "account_id": pa.array(self.accounts, pa.string()),
                "cluster_id": pa.array([f"k{c:05d}" for c in self.cluster], pa.string()),
                "component_id": pa.array(self.component.astype(np.int64)),
                "cluster_size": pa.array(
                    sizes[self.cluster].astype(np.int64) if len(sizes) else [], pa.int64()
                ),
            }
        )


def cluster_accounts(
    accounts: Iterable[str],
    edges: pa.Table,
    *,
    resolution: float = 1.0,
    seed: int = 0,
) -> Clustering:
    """Cluster accounts given account-indicator edges (columns account_id, indicator, weight)."""
    names = sorted(set(accounts))
    if edges.num_rows:
        # Engines return rows in no fixed order; Leiden's result depends on it, so fix one.
        edges = edges.sort_by([("account_id", "ascending"), ("indicator", "ascending")])
    index = {a: i for i, a in enumerate(names)}
    n_acc = len(names)
    acc = edges["account_id"].to_pylist() if edges.num_rows else []
    ind = edges["indicator"].to_pylist() if edges.num_rows else []
    weights = edges["weight"].to_numpy(zero_copy_only=False) if edges.num_rows else np.zeros(0)
    keep = [i for i, a in enumerate(acc) if a in index]
    indicators = sorted({ind[i] for i in keep})
    ind_index = {v: n_acc + j for j, v in enumerate(indicators)}
    src = [index[acc[i]] for i in keep]
    dst = [ind_index[ind[i]] for i in keep]
    g = ig.Graph(n=n_acc + len(indicators), edges=list(zip(src, dst, strict=True)), directed=False)
    w = [float(weights[i]) for i in keep]
    g.es["weight"] = w
    component = np.array(g.connected_components().membership[:n_acc], dtype=np.int64)
    if g.ecount():
        part = leidenalg.find_partition(
            g,
            leidenalg.RBConfigurationVertexPartition,
            weights="weight",
            resolution_parameter=resolution,
            seed=seed,
            n_iterations=-1,
        )
        membership = np.array(part.membership[:n_acc], dtype=np.int64)
    else:
        membership = np.arange(n_acc, dtype=np.int64)
    # Renumber so ids are dense and stable: order clusters by their smallest account name.
    _, dense = np.unique(membership, return_inverse=True)
    return Clustering(names, dense.astype(np.int64), component)
