"""The papers' experiments: models, data, training and sampling (outside the library core).

``import bionn`` never imports this package; it needs the ``experiments`` extra (torchvision,
tqdm, matplotlib, scikit-learn, pillow).

Python API (what ``bionn train`` / ``bionn sample`` and ``bionn compare`` use)::

    from bionn.experiments import make_config, run_training, load_run, sample_images

    config = make_config("gan", variant="mouse", data="digits", image_size=32, steps=200,
                         out="runs/gan-mouse-s0", seed=0)     # frozen GANConfig, checked
    result = run_training(config)          # RunResult(run_dir, summary, metrics, checkpoint,
                                           #   status 'completed' / 'interrupted', plan)
    loaded, summary = load_run(result.run_dir)     # LoadedModel(model, config, step, path)
    images = sample_images(loaded.model, 64, seed=1)   # uint8 (64, C, H, W); DDIM uses EMA

- ``make_config(kind, **options)``: kind 'gan' | 'ddim' | 'classifier'; options are the fields
  of :class:`GANConfig` / :class:`DDIMConfig` / :class:`ClassifierConfig` (``model``,
  ``variant`` 'standard' | 'mouse' | 'schizo', ``usage`` (fraction kept) or ``radius`` /
  ``reduction``, ``data`` ('digits', 'mnist', 'fashionmnist', 'cifar10' or an image folder),
  ``image_size``, ``width``, ``steps`` / ``epochs``, ``batch_size``, ``lr``, ``seed``, ``out``,
  ``device``, ``precision``, ``progress`` ...). Unset values take the published defaults.
  Configs are frozen values, checked once when built (``config_errors(kind, values)`` lists
  the problems without raising); :func:`~bionn.experiments.plan.resolve` turns a config and
  the data set's facts into the :class:`RunPlan` a run follows (``result.plan``).
- ``run_training(config, resume=False)``: trains; the run folder holds ``config.json``,
  ``metrics.jsonl``, ``checkpoints/last.pt``, ``samples/*.png``, ``usage.txt``,
  ``summary.json`` (status, steps, time_s, images_per_s, final metrics, usage.windowed /
  usage.total / usage.layers, versions, config) and, for classifiers, ``loss_curve.png``.
- ``build(kind, variant, **options)`` / ``build_model(config)``: an untrained model (GAN with
  ``.generator`` / ``.discriminator``, DDIM with ``.network``, or a classifier);
  ``measured_part(model)`` is the part whose usage the papers report.
- ``load_checkpoint(path_or_run_dir, device, kind=None, variant=None)`` /
  ``load_run(run_dir)``: rebuild a trained model in eval mode (DDIM: EMA weights).
- ``sample_images(model, n, steps=20, seed=0, batch_size=64)``: uint8 images;
  ``save_grid(images, path)`` / ``save_singles(images, folder)`` write PNGs.
- ``load_data(name, size=..., channels=..., train=True, ...)``: uint8 :class:`ImageData`.
- Studies: ``bionn.experiments.compare.compare`` and ``bionn.experiments.sweep.sweep`` train,
  score and report many runs; their results are typed (:class:`RunScores`,
  :class:`UsageTotals`, in :mod:`bionn.experiments.results`).
- Errors for bad input are ``ValueError`` subclasses with clear messages: ConfigError,
  DataError, BuildError, CheckpointError, RunError (all in :data:`USER_ERRORS`).
"""

from bionn.experiments.checkpoint import (
    CheckpointError,
    LoadedModel,
    load_checkpoint,
    load_run,
)
from bionn.experiments.config import (
    ClassifierConfig,
    ConfigError,
    DDIMConfig,
    GANConfig,
    RunConfig,
    config_errors,
    make_config,
)
from bionn.experiments.data import DataError, ImageData, load_data
from bionn.experiments.models import BuildError, build, build_model, measured_part
from bionn.experiments.plan import DataFacts, RunPlan, resolve
from bionn.experiments.results import RunScores, UsageTotals
from bionn.experiments.sampling import sample_images, save_grid, save_singles
from bionn.experiments.train import RunError, RunResult, run_training

USER_ERRORS = (ConfigError, DataError, BuildError, CheckpointError, RunError)

__all__ = [
    "USER_ERRORS",
    "BuildError",
    "CheckpointError",
    "ClassifierConfig",
    "ConfigError",
    "DDIMConfig",
    "DataError",
    "DataFacts",
    "GANConfig",
    "ImageData",
    "LoadedModel",
    "RunConfig",
    "RunError",
    "RunPlan",
    "RunResult",
    "RunScores",
    "UsageTotals",
    "build",
    "build_model",
    "config_errors",
    "load_checkpoint",
    "load_data",
    "load_run",
    "make_config",
    "measured_part",
    "resolve",
    "run_training",
    "sample_images",
    "save_grid",
    "save_singles",
]
