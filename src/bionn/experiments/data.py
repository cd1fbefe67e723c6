"""Training data of the experiments: :mod:`bionn.data`, where it lives beneath metrics too.

Kept so ``bionn.experiments.data`` names what the trainers read (:class:`ImageData` from
:func:`load_data`); see :mod:`bionn.data.datasets` and :mod:`bionn.data.folders`.
"""

from bionn.data import DATASETS, DataError, ImageData, load_data, load_image_folder

__all__ = ["DATASETS", "DataError", "ImageData", "load_data", "load_image_folder"]
