"""Where the Trainer's real batches come from: a tensor of data, or a distribution to sample.

Both sources keep their position and random state in a ``state_dict``, so that a resumed
run sees exactly the batches it would have seen without stopping.
"""
from __future__ import annotations

import torch

from .checks import check_images

__all__ = ["TensorBatches", "SampledBatches", "batches_for", "data_tensor", "data_labels", "label_distribution",
           "describe_data"]


class TensorBatches:
    """Batches from a data set held as one tensor: a fresh random permutation every epoch.

    A batch larger than the data set (few-shot transfer) simply runs on into the next
    permutation. The state (position, permutation, random generator) is saved in
    checkpoints, so a resumed run sees exactly the batches it would have seen. With
    ``labels`` (for a class-conditional GAN), :meth:`next` returns ``(images, labels)``.
    """

    def __init__(self, data: torch.Tensor, batch_size: int, seed: int, device: torch.device,
                 labels: torch.Tensor | None = None) -> None:
        if labels is not None and len(labels) != len(data):
            raise ValueError(f"{len(data)} samples but {len(labels)} labels")
        self.data = data.to(device)
        self.labels = labels.to(device) if labels is not None else None
        self.batch_size = batch_size
        self.generator = torch.Generator().manual_seed(seed)
        self.order = torch.randperm(len(data), generator=self.generator)
        self.position = 0

    def __len__(self) -> int:
        return len(self.data)

    def example(self) -> torch.Tensor:
        """Two samples, to check shapes against the generator's."""
        return self.data[:2]

    def next(self) -> torch.Tensor:
        pieces, needed = [], self.batch_size
        while needed > 0:
            if self.position == len(self.order):
                self.order = torch.randperm(len(self.data), generator=self.generator)
                self.position = 0
            take = self.order[self.position: self.position + needed]
            self.position += len(take)
            needed -= len(take)
            pieces.append(take)
        index = (pieces[0] if len(pieces) == 1 else torch.cat(pieces)).to(self.data.device)
        return self.data[index] if self.labels is None else (self.data[index], self.labels[index])

    def state_dict(self) -> dict:
        return {"rng": self.generator.get_state(), "order": self.order.clone(), "position": self.position}

    def load_state_dict(self, state: dict) -> None:
        self.generator.set_state(state["rng"])
        self.order, self.position = state["order"].clone(), int(state["position"])


class SampledBatches:
    """Batches drawn fresh from a distribution with ``.sample(n, generator)`` (the toy data)."""

    def __init__(self, distribution, batch_size: int, seed: int, device: torch.device) -> None:
        self.distribution, self.batch_size, self.device = distribution, batch_size, device
        self.generator = torch.Generator().manual_seed(seed)

    def example(self) -> torch.Tensor:
        return self.distribution.sample(2)

    def next(self) -> torch.Tensor:
        return self.distribution.sample(self.batch_size, generator=self.generator).to(self.device)

    def state_dict(self) -> dict:
        return {"rng": self.generator.get_state()}

    def load_state_dict(self, state: dict) -> None:
        self.generator.set_state(state["rng"])


def batches_for(data, batch_size: int, seed: int, device: torch.device,
                labelled: bool = False) -> TensorBatches | SampledBatches:
    """The batch source for ``data``: sampled for a distribution, a shuffled tensor otherwise
    (of ``(images, labels)`` pairs when ``labelled``). Images are checked (:func:`gantutor.checks.check_images`)."""
    if hasattr(data, "sample") and not isinstance(data, torch.Tensor):
        if labelled:
            raise ValueError("a class-conditional GAN needs labelled data, not a distribution to sample")
        return SampledBatches(data, batch_size, seed, device)
    tensor = data_tensor(data)
    if tensor.ndim == 4:  # images: checked once per data set, every value (finite, in about [-1, 1])
        check_images(tensor, "the training data")
    return TensorBatches(tensor, batch_size, seed, device, data_labels(data) if labelled else None)


def data_labels(data) -> torch.Tensor:
    """The class labels of ``data`` (an ImageDomain or a Dataset of (x, y) pairs), int64."""
    labels = getattr(data, "labels", None)
    if isinstance(labels, torch.Tensor):
        return labels.long()
    if isinstance(data, torch.Tensor):
        raise ValueError("a class-conditional GAN needs labelled data: pass an image domain from load_domain() "
                         "or a Dataset of (image, label) pairs, not a tensor of images")
    try:
        return torch.tensor([int(data[i][1]) for i in range(len(data))])
    except (TypeError, IndexError, ValueError):
        raise ValueError(f"a class-conditional GAN needs labelled data: {type(data).__name__} does not give "
                         "(image, label) pairs") from None


def data_tensor(data) -> torch.Tensor:
    """The images (or points) of ``data``: an ImageDomain, a Dataset of (x, y) or a tensor."""
    if isinstance(data, torch.Tensor):
        tensor = data
    elif isinstance(getattr(data, "images", None), torch.Tensor):
        tensor = data.images
    else:
        try:
            count = len(data)
        except TypeError:
            raise TypeError(
                f"cannot train on a {type(data).__name__}: pass a domain from load_domain(), "
                "a Dataset of (image, label) pairs, a tensor of images, or a distribution with .sample(n)"
            ) from None
        if count == 0:
            raise ValueError("the data set is empty: there is nothing to train on")
        items = [data[i] for i in range(count)]
        tensor = torch.stack([item[0] if isinstance(item, (tuple, list)) else item for item in items])
    if len(tensor) == 0:
        raise ValueError("the data set is empty: there is nothing to train on")
    if not torch.is_floating_point(tensor):
        raise TypeError(f"training data must be floating point (images in [-1, 1]), got {tensor.dtype}: map [0, 255] "
                        "images with x.float() / 127.5 - 1")
    return tensor.float()


def label_distribution(data, num_classes: int) -> torch.Tensor:
    """How often each of ``num_classes`` labels occurs in ``data``: ``(num_classes,)`` counts, float."""
    labels = data_labels(data)
    if len(labels) and (int(labels.min()) < 0 or int(labels.max()) >= num_classes):
        raise ValueError(f"the data's labels run from {int(labels.min())} to {int(labels.max())}, but the networks "
                         f"are conditioned on {num_classes} classes (0..{num_classes - 1})")
    return torch.bincount(labels, minlength=num_classes).float()


def describe_data(data) -> dict | None:
    """How to load ``data`` again on resume, if it came from the registry (else ``None``)."""
    name = getattr(data, "name", None)
    if name is None:
        return None
    if hasattr(data, "sample"):
        return {"domain": name}
    return {"domain": name, "split": getattr(data, "split", "train"), "limit": len(data)}
