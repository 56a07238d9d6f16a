"""Pictures that explain: Grad-CAM heatmaps of a CNN backbone under a price head, and 2-D maps (PCA, t-SNE) of
embedding tables coloured by price or category."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from catalog_ml.data.image_io import square_pad
from catalog_ml.errors import CatalogError
from catalog_ml.nn.backbones import ImageBackbone


def last_conv_layer(model):  # noqa: ANN001, ANN201 (torch modules)
    """The last 2-D convolution of a CNN: where Grad-CAM looks."""
    from torch import nn

    convolutions = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    if not convolutions:
        raise CatalogError(f"{type(model).__name__} has no 2-D convolution: Grad-CAM needs a CNN backbone")
    return convolutions[-1]


def grad_cam(backbone: ImageBackbone, head_weights: np.ndarray, head_bias: float,
             image_array: np.ndarray) -> tuple[np.ndarray, float]:
    """Heatmap (H x W in [0, 1]) of where the backbone's features push the linear price head, and the head's
    log1p-price output for this image."""
    import torch

    model = backbone.model.eval()
    layer = last_conv_layer(model)
    captured = {}
    handle = layer.register_forward_hook(lambda module, inputs, output: captured.__setitem__("maps", output))
    try:
        batch = torch.from_numpy(image_array[None]).float()
        features = model(batch)
        score = features @ torch.as_tensor(head_weights, dtype=features.dtype) + head_bias
        (gradients,) = torch.autograd.grad(score.sum(), captured["maps"])
    finally:
        handle.remove()
    maps = captured["maps"].detach()[0]
    weights = gradients[0].mean(dim=(1, 2))
    cam = torch.relu((weights[:, None, None] * maps).sum(0))
    cam = torch.nn.functional.interpolate(cam[None, None], size=image_array.shape[1:], mode="bilinear",
                                          align_corners=False)[0, 0].numpy()
    peak = cam.max()
    return (cam / peak if peak > 0 else cam), float(score.detach()[0])


def overlay(photo: Image.Image, cam: np.ndarray, alpha: float = 0.45) -> Image.Image:
    """The photo (padded square, at the heatmap's size) with the heatmap on top in the 'jet' colour map."""
    from matplotlib import colormaps

    base = square_pad(photo).resize(cam.shape[::-1], Image.Resampling.BICUBIC)
    heat = Image.fromarray((colormaps["jet"](cam)[:, :, :3] * 255).astype(np.uint8))
    return Image.blend(base, heat, alpha)


def grad_cam_grid(items: list[dict], path: Path, title: str) -> None:
    """A PNG with one column per product: photo and heatmap, titled with the price and prediction."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(2, len(items), figsize=(2.6 * len(items), 5.6), squeeze=False)
    for column, item in enumerate(items):
        axes[0, column].imshow(square_pad(item["photo"]))
        axes[0, column].set_title(f"{item['which']}: {item['price']:.0f} vs {item['predicted']:.0f}", fontsize=8)
        axes[1, column].imshow(item["overlay"])
        for axis in axes[:, column]:
            axis.axis("off")
    figure.suptitle(title, fontsize=9)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)


def embedding_maps(vectors: np.ndarray, colour: pd.Series, out_dir: Path, title: str, seed: int = 0) -> list[Path]:
    """PCA and t-SNE scatter plots of ``vectors`` coloured by ``colour`` (log price if numeric, else category)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.decomposition import PCA
    from sklearn.manifold import TSNE

    reduced = PCA(n_components=min(50, vectors.shape[1]), random_state=seed).fit_transform(vectors)
    layouts = {"pca": reduced[:, :2],
               "tsne": TSNE(n_components=2, init="pca", perplexity=min(30, len(vectors) // 4 or 1),
                            random_state=seed).fit_transform(reduced)}
    numeric = pd.api.types.is_numeric_dtype(colour)
    written = []
    for name, xy in layouts.items():
        figure, axis = plt.subplots(figsize=(7, 6))
        if numeric:
            points = axis.scatter(xy[:, 0], xy[:, 1], c=np.log1p(colour.to_numpy(dtype=float)), s=4, cmap="viridis")
            figure.colorbar(points, label=f"log1p {colour.name}")
        else:
            top = colour.astype(str).value_counts().index[:10]
            for label in top:
                mask = (colour.astype(str) == label).to_numpy()
                axis.scatter(xy[mask, 0], xy[mask, 1], s=4, label=label)
            rest = ~colour.astype(str).isin(top).to_numpy()
            axis.scatter(xy[rest, 0], xy[rest, 1], s=3, c="lightgrey", label="other")
            axis.legend(markerscale=3, fontsize=7)
        axis.set(title=f"{title} ({name.upper()})", xticks=[], yticks=[])
        figure.tight_layout()
        path = out_dir / f"{name}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(path, dpi=110)
        plt.close(figure)
        written.append(path)
    return written
