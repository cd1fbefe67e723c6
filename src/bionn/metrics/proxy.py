"""An offline FID proxy for small grey data sets: Frechet distance in a small classifier's features.

Inception weights are not available offline, and Inception features of 28x28 grey digits say
little anyway. The proxy trains a small CNN on the labelled training split of the same data set
(MNIST, Fashion-MNIST or the embedded digits), caches it, and measures the Frechet distance of
its 64-d penultimate (pre-activation) features, as the "FID" of the MNIST GAN literature does with
a LeNet. Its values are reported as ``FD-proxy(<dataset>)`` and are never comparable with FID.

Example:
    >>> name = proxy_name("digits")
    >>> name
    'FD-proxy(digits)'

"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

import torch
import torch.nn.functional as F  # noqa: N812
from torch import Tensor, nn

from bionn.data import progress_bar, save_torch
from bionn.metrics.images import to_float

__all__ = ["ProxyClassifier", "ProxyFeatures", "load_or_train_proxy", "proxy_name", "train_proxy"]

INPUT_SIZE = 28  # every image is resized to this before the classifier
FEATURES = 64  # small, so a few hundred samples give a full-rank covariance

logger = logging.getLogger(__name__)


def proxy_name(dataset: str) -> str:
    """Return the name a proxy distance is reported under."""
    return f"FD-proxy({dataset})"


class ProxyClassifier(nn.Module):
    """Two conv blocks and a 64-d feature layer, on 28x28 grey images."""

    def __init__(self, classes: int = 10) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(64 * 7 * 7, FEATURES),
        )
        self.head = nn.Linear(FEATURES, classes)

    def features(self, images: Tensor) -> Tensor:
        """Return the 64-d features of float images in [0, 1], any size, one channel."""
        if images.shape[1] != 1:
            raise ValueError(
                f"the proxy is for grey images; got {images.shape[1]} channels "
                f"(use standard FID for colour data)"
            )
        x = to_float(images).to(next(self.parameters()).device)
        if x.shape[-2:] != (INPUT_SIZE, INPUT_SIZE):
            x = F.interpolate(
                x,
                size=(INPUT_SIZE, INPUT_SIZE),
                mode="bilinear",
                align_corners=False,
                antialias=True,
            )
        return self.body(x * 2 - 1)

    def forward(self, images: Tensor) -> Tensor:
        """Class logits."""
        return self.head(F.relu(self.features(images)))


class ProxyFeatures(nn.Module):
    """The feature extractor handed to :class:`~bionn.metrics.fid.ImageDistance`."""

    def __init__(
        self, classifier: ProxyClassifier, dataset: str, accuracy: float, scale: float = 1.0
    ) -> None:
        super().__init__()
        self.classifier = classifier.eval().requires_grad_(False)
        self.dataset = dataset
        self.accuracy = accuracy
        self.scale = scale
        self.name = f"proxy-{dataset}"

    def forward(self, images: Tensor) -> Tensor:
        """Features of float images in [0, 1], divided by the held-out feature spread."""
        return self.classifier.features(images) / self.scale


def train_proxy(
    images: Tensor, labels: Tensor, steps: int = 400, seed: int = 0, progress: bool | None = None
) -> tuple[ProxyClassifier, float, float]:
    """Train the classifier for ``steps`` batches of 128.

    Returns the classifier, its held-out accuracy and the standard deviation of its held-out
    features. Dividing by that spread puts the features on roughly unit scale, as KID's
    polynomial kernel ``(x.y / d + 1)^3`` assumes (Inception pool features are of that order).

    A fixed step count (not epochs) keeps the cost the same for the 1,400 embedded digits and
    the 60,000 Fashion-MNIST images; 400 steps reach about 90 % held-out accuracy on both.

    One tenth of the images (at most 2,000) is held out to measure accuracy, which the report
    shows: a proxy whose classifier cannot tell the classes apart measures little.
    ``progress`` shows a bar (None: when stderr is a terminal).
    """
    generator = torch.Generator().manual_seed(seed)
    order = torch.randperm(len(labels), generator=generator)
    n_test = min(2_000, len(labels) // 10)
    test, train = order[:n_test], order[n_test:]
    torch.manual_seed(seed)
    model = ProxyClassifier(int(labels.max()) + 1)
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-3)
    for _ in progress_bar(
        range(steps), desc="training the proxy classifier", enabled=progress, unit="step"
    ):
        batch = train[torch.randint(len(train), (128,), generator=generator)]
        loss = F.cross_entropy(model(to_float(images[batch])), labels[batch])
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    model.eval()
    with torch.no_grad():
        features = torch.cat([model.features(to_float(images[b])) for b in test.split(512)])
    predicted = model.head(F.relu(features)).argmax(1)
    accuracy = float((predicted == labels[test]).float().mean())
    return model, accuracy, float(features.std())


def _fingerprint(images: Tensor, labels: Tensor) -> str:
    digest = hashlib.sha256(images.contiguous().numpy().tobytes())
    digest.update(labels.numpy().tobytes())
    return digest.hexdigest()[:16]


def load_or_train_proxy(
    dataset: str,
    images: Tensor,
    labels: Tensor,
    cache_dir: Path | str | None,
    progress: bool | None = None,
) -> ProxyFeatures:
    """Return the proxy extractor for ``dataset``, from the cache if trained on these images.

    Args:
        dataset: Data set name (used in the reported metric name).
        images: Training images, uint8 ``(n, 1, h, w)``.
        labels: Their class labels.
        cache_dir: Folder for the trained weights (None: train every time).
        progress: Progress bar while training (None: when stderr is a terminal).

    """
    path = None
    if cache_dir is not None:
        path = Path(cache_dir) / f"proxy-{dataset}-{_fingerprint(images, labels)}.pt"
        if path.exists():
            state = torch.load(path, weights_only=True)
            model = ProxyClassifier(state["classes"])
            model.load_state_dict(state["model"])
            return ProxyFeatures(model, dataset, state["accuracy"], state["scale"])
    logger.info(
        "training the proxy classifier on %d %s images (once; cached in %s)",
        len(labels),
        dataset,
        cache_dir,
    )
    model, accuracy, scale = train_proxy(images, labels, progress=progress)
    logger.info("proxy classifier: held-out accuracy %.3f", accuracy)
    if path is not None:
        save_torch(
            {
                "model": model.state_dict(),
                "accuracy": accuracy,
                "scale": scale,
                "classes": model.head.out_features,
            },
            path,
        )
    return ProxyFeatures(model, dataset, accuracy, scale)
