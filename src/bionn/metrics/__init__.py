"""Image-generation metrics: FID and KID with injectable extractors, Inception, an offline proxy.

Not imported by ``import bionn``; standard FID needs the ``fid`` extra (torch-fidelity).
Frechet distance: Heusel et al. 2017; KID: Binkowski et al. 2018; the papers' own protocol:
Saiga et al. 2025, Sci. Rep. 15:25091.
"""

from bionn.metrics.fid import DistanceResult, FeatureStats, ImageDistance, cached
from bionn.metrics.functional import (
    frechet_distance,
    kernel_distance,
    polynomial_mmd,
    welch_t_test,
)

__all__ = [
    "DistanceResult",
    "FeatureStats",
    "ImageDistance",
    "cached",
    "frechet_distance",
    "kernel_distance",
    "polynomial_mmd",
    "welch_t_test",
]
