"""The emotion head trained with DP-SGD (opacus), and what the guarantee costs (docs/metrics.md, Privacy).

opacus's `make_private_with_epsilon` picks the noise multiplier that spends exactly the target ε at δ
over the planned epochs with Poisson-sampled batches and per-sample gradients clipped to
`max_grad_norm`; the ε reported is the accountant's (RDP) for the steps actually taken, which early
stopping on the dev speakers (not private data) can only lower.

The DP head is the release head with three changes, each forced by DP-SGD:
- its layer mix stays uniform (frozen): opacus computes per-sample gradients module by module and has
  none for the head's bare layer-mix parameter, so every trained parameter must sit in a Conv1d or Linear;
- it is narrower (`width`, 32 instead of 128): the noise DP-SGD adds grows with the number of
  parameters while the clipped signal does not, so on SER-sized training sets (hundreds of
  utterances) the release-size head learns nothing under DP noise and a narrow one does;
- a larger learning rate (3e-2), since noisy steps are few (epochs × 1 / sample rate).

Since the mix is frozen, each frame's standardised, uniformly mixed layers are computed once before
training (`MixedLayers`) and DP-SGD trains a one-layer head on them: the same function, without
redoing the mix of every layer at every step (most of the DP head's time on many-layer encoders). The
trained weights then go into a head on all layers (`onto_all_layers`), which computes the same logits.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, replace

import numpy as np
import torch
from torch.utils.data import DataLoader, TensorDataset

from trustser.features.frames import FrameSource, pad_frames, pooled_layer_of
from trustser.models.head import EmotionHead, HeadConfig
from trustser.models.training import TrainConfig, fit_head, new_head


@dataclass(frozen=True)
class DPConfig:
    target_epsilon: float
    delta: float  # 0: 1 / n_train, capped at 1e-5
    max_grad_norm: float  # per-sample clipping norm (L2)
    epochs: int
    width: int = 32  # conv_dim and mlp_dim of the DP head
    learning_rate: float = 3e-2

    def delta_for(self, n_train: int) -> float:
        return self.delta if self.delta > 0 else min(1.0 / n_train, 1e-5)


@dataclass(frozen=True)
class DPAccount:
    epsilon: float  # spent, as opacus's RDP accountant reports it
    delta: float
    target_epsilon: float
    noise_multiplier: float
    max_grad_norm: float
    epochs: int
    sample_rate: float  # Poisson sampling probability of each training utterance per step
    steps: int


def train_dp_head(
    features: FrameSource,
    labels: np.ndarray,
    train_indices: np.ndarray,
    dev_indices: np.ndarray,
    *,
    num_classes: int,
    head_config: HeadConfig,
    train_config: TrainConfig,
    dp: DPConfig,
    device: torch.device | str = "cpu",
) -> tuple[EmotionHead, DPAccount]:
    """Train a head with DP-SGD to `dp.target_epsilon`; the shared loop of `train_head` does the epochs."""
    from opacus import PrivacyEngine  # heavy; only the DP audit needs it

    torch.manual_seed(train_config.seed)
    head_config = replace(head_config, conv_dim=dp.width, mlp_dim=dp.width)
    train_config = replace(train_config, learning_rate=dp.learning_rate, max_epochs=dp.epochs, patience=dp.epochs)
    with torch.random.fork_rng():  # its weights are replaced; drawing them must not shift the DP head's draws
        released = new_head(features, train_indices, num_classes=num_classes, head_config=head_config)
    features = MixedLayers(features, released)
    head = EmotionHead(1, features.hidden_size, num_classes, head_config)  # standardisation: identity
    head.layer_logits.requires_grad_(False)
    optimiser = torch.optim.AdamW(
        [p for p in head.parameters() if p.requires_grad],
        lr=train_config.learning_rate,
        weight_decay=train_config.weight_decay,
    )
    loader = DataLoader(
        TensorDataset(torch.as_tensor(train_indices)),
        batch_size=train_config.batch_size,
        generator=torch.Generator().manual_seed(train_config.seed),
    )
    delta = dp.delta_for(len(train_indices))
    with warnings.catch_warnings():  # opacus warns that the secure RNG is off: we want reproducible audits
        warnings.filterwarnings("ignore", message="Secure RNG turned off")
        warnings.filterwarnings("ignore", message="Optimal order is the largest alpha")
        engine = PrivacyEngine(accountant="rdp")
        model, optimiser, private_loader = engine.make_private_with_epsilon(
            module=head,
            optimizer=optimiser,
            data_loader=loader,
            target_epsilon=dp.target_epsilon,
            target_delta=delta,
            epochs=dp.epochs,
            max_grad_norm=dp.max_grad_norm,
        )
    steps = {"n": 0}

    def batches():
        for (batch,) in private_loader:
            steps["n"] += 1
            yield batch.numpy()

    with warnings.catch_warnings():  # opacus's hooks on a head whose inputs need no gradient: expected
        warnings.filterwarnings("ignore", message="Full backward hook is firing")
        warnings.filterwarnings("ignore", message="Optimal order is the largest alpha")
        fit_head(
            head,
            features,
            labels,
            train_indices,
            dev_indices,
            optimiser=optimiser,
            batches=batches,
            train_config=train_config,
            model=model,
            device=device,
        )
        epsilon = engine.get_epsilon(delta)
    account = DPAccount(
        epsilon=float(epsilon),
        delta=delta,
        target_epsilon=dp.target_epsilon,
        noise_multiplier=float(optimiser.noise_multiplier),
        max_grad_norm=dp.max_grad_norm,
        epochs=dp.epochs,
        sample_rate=float(1.0 / len(private_loader)),
        steps=steps["n"],
    )
    return onto_all_layers(head, released), account


class MixedLayers:
    """One layer per frame: the mix of `head`'s standardised layers (its frozen input), computed as read.

    A view, not a copy, so DP training reads the corpus's features batch by batch like any head.
    """

    num_layers = 1

    def __init__(self, source: FrameSource, head: EmotionHead):
        self.source, self.hidden_size = source, source.hidden_size
        self.utterance_ids, self.extraction_energy = source.utterance_ids, source.extraction_energy
        self._weights = head.layer_weights().detach()
        self._mean, self._std = head.feature_mean.detach(), head.feature_std.detach()

    @property
    def frame_counts(self) -> np.ndarray:
        return self.source.frame_counts

    def frame_count(self, index: int) -> int:
        return self.source.frame_count(index)

    def audio_seconds(self, indices) -> float:
        return self.source.audio_seconds(indices)

    def _mix(self, layers: torch.Tensor) -> torch.Tensor:  # [..., L, H] -> [..., 1, H]
        return torch.einsum("l,...lh->...h", self._weights, (layers - self._mean) / self._std)[..., None, :]

    def utterance_frames(self, index: int) -> np.ndarray:
        with torch.no_grad():
            return self._mix(torch.from_numpy(self.source.utterance_frames(index).astype(np.float32))).numpy()

    def batch(self, indices) -> tuple[torch.Tensor, torch.Tensor]:
        return pad_frames([self.utterance_frames(int(i)) for i in indices], 1, self.hidden_size)

    def pooled(self) -> torch.Tensor:
        with torch.no_grad():  # the mix is linear, so the mean of mixed frames is the mix of mean frames
            return self._mix(self.source.pooled())

    def pooled_blocks(self):
        with torch.no_grad():
            for rows, block in self.source.pooled_blocks():
                yield rows, self._mix(torch.from_numpy(block)).numpy()

    def pooled_layer(self, layer: int) -> np.ndarray:
        if layer != 0:
            raise IndexError(f"the mixed view has one layer, not layer {layer}")
        return pooled_layer_of(self, 0)


def onto_all_layers(trained: EmotionHead, released: EmotionHead) -> EmotionHead:
    """`released` (standardisation and frozen mix over all layers) with the weights `trained` learned on the mix."""
    learned = {
        k: v for k, v in trained.state_dict().items() if k not in ("feature_mean", "feature_std", "layer_logits")
    }
    released.load_state_dict({**released.state_dict(), **learned})
    return released.eval()


@dataclass(frozen=True)
class DifferentialPrivacyResult:
    """The DP head against the non-DP head trained by the same recipe on the same utterances."""

    epsilon: float
    delta: float
    target_epsilon: float
    noise_multiplier: float
    max_grad_norm: float
    epochs: int
    steps: int
    uar_dp: float  # on held-out speakers
    uar_non_dp: float
    uar_cost: float  # uar_non_dp − uar_dp, in UAR points (proportion)
    advantage_dp: float  # membership advantage, members vs held-out utterances of the same speakers
    advantage_non_dp: float
    advantage_change: float  # advantage_dp − advantage_non_dp (negative: DP leaks less)
    n_train: int
    n_test: int


def compare_with_dp(
    account: DPAccount,
    *,
    uar_dp: float,
    uar_non_dp: float,
    advantage_dp: float,
    advantage_non_dp: float,
    n_train: int,
    n_test: int,
) -> DifferentialPrivacyResult:
    return DifferentialPrivacyResult(
        epsilon=account.epsilon,
        delta=account.delta,
        target_epsilon=account.target_epsilon,
        noise_multiplier=account.noise_multiplier,
        max_grad_norm=account.max_grad_norm,
        epochs=account.epochs,
        steps=account.steps,
        uar_dp=uar_dp,
        uar_non_dp=uar_non_dp,
        uar_cost=uar_non_dp - uar_dp,
        advantage_dp=advantage_dp,
        advantage_non_dp=advantage_non_dp,
        advantage_change=advantage_dp - advantage_non_dp,
        n_train=n_train,
        n_test=n_test,
    )
