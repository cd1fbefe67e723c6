"""Data beneath both :mod:`bionn.metrics` and :mod:`bionn.experiments`, framework-neutral.

* named data sets and image folders as uint8 tensors (:func:`load_data`,
  :func:`load_image_folder`), the same for training and for the real side of FID;
* image sets read batch by batch (:class:`ImageSet`: :class:`FolderImages`,
  :class:`TensorImages`, :class:`FittedImages`), so FID on a folder of 200,000 files keeps one
  file open and one batch in memory;
* the files bionn writes: atomic, with ordinary permissions (:func:`atomic_write`), and the
  stale temporaries of killed writers (:func:`clear_stale_temporaries`);
* one progress bar (:func:`progress_bar`).

Needs the ``experiments`` extra (pillow, tqdm; torchvision / scikit-learn for named sets).

Example:
    >>> import torch
    >>> images = FittedImages(TensorImages(torch.zeros(5, 1, 8, 8, dtype=torch.uint8)), 4, 3)
    >>> [tuple(batch.shape) for batch in images.batches(4)]
    [(4, 3, 4, 4), (1, 3, 4, 4)]

"""

from bionn.data.base import DataError, ImageData
from bionn.data.datasets import DATASETS, GREY_DATASETS, fit_images, load_data
from bionn.data.files import atomic_write, clear_stale_temporaries, save_torch, write_text
from bionn.data.folders import (
    IMAGE_SUFFIXES,
    FolderImages,
    list_images,
    load_image_folder,
    open_folder,
    read_image,
)
from bionn.data.progress import progress_bar
from bionn.data.streams import FittedImages, ImageSet, TensorImages, as_image_set

__all__ = [
    "DATASETS",
    "GREY_DATASETS",
    "IMAGE_SUFFIXES",
    "DataError",
    "FittedImages",
    "FolderImages",
    "ImageData",
    "ImageSet",
    "TensorImages",
    "as_image_set",
    "atomic_write",
    "clear_stale_temporaries",
    "fit_images",
    "list_images",
    "load_data",
    "load_image_folder",
    "open_folder",
    "progress_bar",
    "read_image",
    "save_torch",
    "write_text",
]
