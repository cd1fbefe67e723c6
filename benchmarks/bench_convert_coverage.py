"""Conversion coverage: mousify and schizofy over every torchvision model and timm families.

Each model is built with ``weights=None`` (seeded), run once on a small input, converted in
place, run again (the output's shapes must equal the original's), saved with ``save_compact``,
its weights overwritten with NaN, loaded back with ``load_compact`` (every ``state_dict`` tensor
and the output must come back bit for bit), and its skipped layers listed with their reasons.

Columns: ``replaced`` layers converted; ``usage`` achieved over windowed layers; ``fwd=``
output shapes equal to the original's (detection models: per-detection shapes, as the number
of detections depends on the weights); ``ratio`` ``save_compact`` file size over the plain
weights' bytes; ``exact`` round trip exact; ``skipped`` layers left plain (reasons below the
table). Small inputs keep the run short (64x64, 8 frames; a model that refuses one gets its
default size). The full run is long (about 130 models, two conversions each):

    .venv/bin/python benchmarks/bench_convert_coverage.py [--only 'resnet*'] [--no-timm] [--meta]

``--meta`` builds the models on the meta device and converts them only (no weights, forward
or files): a quick list of what is replaced and why the rest is not.
"""

from __future__ import annotations

import argparse
import collections
import fnmatch
import math
import os
import re
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
import torchvision
from torch import nn

import bionn

MODELS = torchvision.models
FAMILIES = {
    "classification": MODELS,
    "segmentation": MODELS.segmentation,
    "detection": MODELS.detection,
    "video": MODELS.video,
    "optical_flow": MODELS.optical_flow,
}
# timm families: CNNs, ViT, Swin, ConvNeXt, MLP-Mixer and others (small variants)
TIMM_MODELS = [
    "resnet18",
    "resnext26ts",
    "efficientnet_b0",
    "mobilenetv3_large_100",
    "regnetx_002",
    "densenet121",
    "dla34",
    "ghostnet_100",
    "rexnet_100",
    "repvgg_a0",
    "nf_resnet26",
    "cspresnet50",
    "hrnet_w18_small",
    "convnext_atto",
    "vit_tiny_patch16_224",
    "deit_tiny_patch16_224",
    "beit_base_patch16_224",
    "cait_xxs24_224",
    "levit_128",
    "swin_tiny_patch4_window7_224",
    "swinv2_cr_tiny_ns_224",
    "mixer_s16_224",
    "resmlp_12_224",
    "gmlp_ti16_224",
    "poolformer_s12",
    "mobilevit_xxs",
    "efficientformer_l1",
    "maxvit_tiny_tf_224",
    "coatnet_nano_rw_224",
    "pvt_v2_b0",
    "twins_svt_small",
    "xcit_nano_12_p16_224",
    "edgenext_xx_small",
    "fastvit_t8",
    "tiny_vit_5m_224",
]
SMALL_IMAGE, SMALL_CLIP = (1, 3, 64, 64), (1, 3, 8, 64, 64)


@dataclass
class Case:
    """One model to try: how to build it and run it on an input of a given shape."""

    name: str
    family: str
    build: Callable[[], nn.Module]
    shapes: list[tuple[int, ...]]  # input shapes to try, smallest first
    run: Callable[[nn.Module, torch.Tensor], object] = lambda model, x: model(x)


@dataclass
class Result:
    """The measured outcome of one conversion of one model."""

    model: str
    family: str
    converter: str
    replaced: int = 0
    usage: float = math.nan
    forward_equal: bool = False
    ratio: float = math.nan
    exact: bool = False
    skipped: list[tuple[str, str]] = field(default_factory=list)
    error: str = ""
    seconds: float = 0.0
    checked: bool = True  # forward and round trip measured (not for --meta)


def torchvision_cases(patterns: list[str]) -> list[Case]:
    cases = []
    for family, module in FAMILIES.items():
        for name in MODELS.list_models(module=module):
            if patterns and not any(fnmatch.fnmatch(name, p) for p in patterns):
                continue
            cases.append(torchvision_case(name, family))
    return cases


def torchvision_case(name: str, family: str) -> Case:
    kwargs: dict[str, object] = {"weights": None}
    if family in ("segmentation", "detection"):
        kwargs["weights_backbone"] = None  # no downloads
    if family == "detection" and not name.startswith("ssd"):
        kwargs.update(min_size=128, max_size=128)  # the transform would resize to 800 pixels
    build = lambda: MODELS.get_model(name, **kwargs)  # noqa: E731
    if family == "detection":
        return Case(name, family, build, [(3, 128, 128)], lambda model, x: model([x]))
    if family == "optical_flow":
        return Case(
            name,
            family,
            build,
            [(1, 3, 128, 128)],
            lambda model, x: model(x, x.flip(-1), num_flow_updates=2),
        )
    if family == "video":
        return Case(name, family, build, [SMALL_CLIP, (1, 3, 16, 224, 224)])
    return Case(name, family, build, [SMALL_IMAGE, (1, 3, 224, 224), (1, 3, 299, 299)])


def parameter_count(name: str) -> int:
    """The parameter count torchvision records for a model's weights (0 if none)."""
    try:
        weights = MODELS.get_model_weights(name)
    except ValueError:
        return 0
    return min(w.meta.get("num_params", 0) for w in weights)


def timm_cases(patterns: list[str]) -> list[Case]:
    import timm

    cases = []
    for name in TIMM_MODELS:
        if patterns and not any(fnmatch.fnmatch(name, p) for p in patterns):
            continue
        default = (1, *timm.get_pretrained_cfg(name).input_size)
        cases.append(
            Case(
                f"timm/{name}", "timm", lambda n=name: timm.create_model(n), [SMALL_IMAGE, default]
            )
        )
    return cases


def signature(output: object, per_item: bool) -> object:
    """The output's structure and tensor shapes (``per_item``: without the leading count)."""
    if isinstance(output, torch.Tensor):
        return tuple(output.shape[1:] if per_item else output.shape)
    if isinstance(output, dict):
        return {key: signature(value, per_item) for key, value in output.items()}
    if isinstance(output, (list, tuple)):
        return [signature(value, per_item) for value in output]
    return type(output).__name__


def leaves(output: object) -> list[torch.Tensor]:
    if isinstance(output, torch.Tensor):
        return [output]
    values = output.values() if isinstance(output, dict) else output
    if isinstance(values, (list, tuple, type({}.values()))):
        return [tensor for value in values for tensor in leaves(value)]
    return []


def plain_bytes(model: nn.Module) -> int:
    """Bytes of the model's distinct state tensors, as a plain safetensors file holds them."""
    seen = {}
    for tensor in model.state_dict().values():
        seen[(tensor.untyped_storage().data_ptr(), tensor.storage_offset(), tensor.shape)] = (
            tensor.numel() * tensor.element_size()
        )
    return sum(seen.values())


def first_forward(case: Case, model: nn.Module) -> tuple[torch.Tensor, object]:
    """An input the model accepts (the smallest of the case's shapes) and its output."""
    error: Exception | None = None
    for shape in case.shapes:
        x = torch.randn(shape)
        try:
            return x, case.run(model, x)
        except Exception as caught:  # noqa: BLE001 - any refusal: try the next size
            error = caught
    raise RuntimeError(f"no input size fits: {error}")


CONVERTERS = {
    "mousify": lambda model: bionn.mousify(model, usage=0.35),
    "schizofy": lambda model: bionn.schizofy(model, usage=0.5, seed=0),
}


@torch.no_grad()
def try_case(case: Case, converter: str, folder: str) -> Result:
    """Convert one model with one converter and measure everything in the module docstring."""
    result = Result(case.name, case.family, converter)
    start = time.perf_counter()
    try:
        torch.manual_seed(0)
        model = build_or_explain(case)
        x, before = first_forward(case, model)
        plain = plain_bytes(model)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            report = CONVERTERS[converter](model)
        result.replaced = len(report.replaced)
        result.skipped = [(c.name, c.note) for c in report.skipped]
        result.usage = report.usage.windowed_total.usage
        after = case.run(model, x)
        per_item = case.family == "detection"
        result.forward_equal = signature(after, per_item) == signature(before, per_item)
        path = os.path.join(folder, "model.safetensors")
        bionn.save_compact(model, path)
        result.ratio = os.path.getsize(path) / plain
        result.exact = round_trip_is_exact(case, model, x, after, path)
    except Exception as error:  # noqa: BLE001 - a failure is a result of the run
        result.error = f"{type(error).__name__}: {str(error).splitlines()[0][:160]}"
    result.seconds = time.perf_counter() - start
    return result


def try_on_meta(case: Case, converter: str) -> Result:
    """Conversion only, of the model built on the meta device: what is replaced, what is not."""
    result = Result(case.name, case.family, converter, checked=False)
    start = time.perf_counter()
    try:
        with torch.device("meta"):
            model = build_or_explain(case)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            report = CONVERTERS[converter](model)
        result.replaced = len(report.replaced)
        result.skipped = [(c.name, c.note) for c in report.skipped]
        result.usage = report.usage.windowed_total.usage
    except Exception as error:  # noqa: BLE001 - a failure is a result of the run
        result.error = f"{type(error).__name__}: {str(error).splitlines()[0][:160]}"
    result.seconds = time.perf_counter() - start
    return result


def build_or_explain(case: Case) -> nn.Module:
    """The case's model in eval mode; a failure says it is the constructor that failed."""
    try:
        return case.build().eval()
    except Exception as error:  # noqa: BLE001 - reraised with its cause named
        raise RuntimeError(f"the constructor failed ({type(error).__name__}: {error})") from error


def round_trip_is_exact(
    case: Case, model: nn.Module, x: torch.Tensor, output: object, path: str
) -> bool:
    """Overwrite every float tensor with NaN, load the file: state and output bit for bit."""
    saved = {key: tensor.clone() for key, tensor in model.state_dict().items()}
    for tensor in model.state_dict().values():
        if tensor.is_floating_point():
            tensor.fill_(math.nan)
    bionn.load_compact(path, model)
    same_state = all(torch.equal(saved[k], v) for k, v in model.state_dict().items())
    again = leaves(case.run(model, x))
    same_output = all(torch.equal(a, b) for a, b in zip(again, leaves(output), strict=True))
    return same_state and same_output


def normalised(reason: str) -> str:
    """A reason without its layer names and counts, to count reasons across models."""
    reason = re.sub(r"'[^']*'", "'…'", reason)
    return re.sub(r"\b\d+ channels", "N channels", reason)


HEADER = (
    f"{'model':44} {'conv':8} {'repl':>4} {'usage':>6} {'fwd=':>4} {'ratio':>6} "
    f"{'exact':>5} {'skip':>4} {'s':>5}"
)


def row(r: Result) -> str:
    def mark(ok: bool) -> str:
        return "-" if not r.checked else "yes" if ok else "NO"

    line = (
        f"{r.model:44} {r.converter:8} {r.replaced:4d} {100 * r.usage:5.1f}% "
        f"{mark(r.forward_equal):>4} {r.ratio:6.3f} {mark(r.exact):>5} {len(r.skipped):4d} "
        f"{r.seconds:5.1f}"
    )
    return line + (f"  ERROR {r.error}" if r.error else "")


def print_totals(results: list[Result]) -> None:
    models = sorted({(r.family, r.model) for r in results})
    print(f"\nmodels tried: {len(models)} ({dict(collections.Counter(f for f, _ in models))})")
    for converter in CONVERTERS:
        rows = [r for r in results if r.converter == converter]
        print(
            f"{converter}: {len(rows)} tried, {sum(r.replaced > 0 for r in rows)} converted "
            f"(>= 1 layer), {sum(r.forward_equal for r in rows)} forward with equal shapes, "
            f"{sum(r.exact for r in rows)} exact round trips, {sum(bool(r.error) for r in rows)} "
            f"errors; {sum(r.replaced for r in rows)} layers replaced, "
            f"{sum(len(r.skipped) for r in rows)} left plain"
        )
    reasons = collections.Counter(normalised(note) for r in results for _, note in r.skipped)
    print("\nreasons for layers left plain (both converters, all models):")
    for reason, count in reasons.most_common():
        print(f"  {count:6d}  {reason}")
    for r in results:
        if r.replaced == 0 and not r.error:
            print(
                f"  no layer converted in {r.model} ({r.converter}): "
                f"{sorted({normalised(n) for _, n in r.skipped})}"
            )
    errors = [r for r in results if r.error]
    print(f"\nerrors: {len(errors)}")
    for r in errors:
        print(f"  {r.model} ({r.converter}): {r.error}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=[], help="fnmatch patterns of model names")
    parser.add_argument("--no-timm", action="store_true", help="torchvision models only")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument(
        "--meta",
        action="store_true",
        help="convert models built on the meta device only (no weights, "
        "forward or files): what is replaced and why not",
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    # timm's small models first, then torchvision's by size: a run cut short covers the most
    cases = ([] if args.no_timm else timm_cases(args.only)) + sorted(
        torchvision_cases(args.only), key=lambda case: parameter_count(case.name)
    )
    results = []
    print(f"{HEADER}\n{'-' * len(HEADER)}")
    with tempfile.TemporaryDirectory() as folder:
        for case in cases:
            for converter in CONVERTERS:
                if args.meta:
                    results.append(try_on_meta(case, converter))
                else:
                    results.append(try_case(case, converter, folder))
                print(row(results[-1]), flush=True)
                reasons = collections.Counter(normalised(note) for _, note in results[-1].skipped)
                print("".join(f"    {n} x {reason}\n" for reason, n in reasons.items()), end="")
    print_totals(results)


if __name__ == "__main__":
    main()
