"""PCA-KD's data-dependent set-up steps, mixed into :class:`~.module.PCAKD`.

* :meth:`PCAKDBlockSetup.fit_exact_eigenbases` - ``eigen_solver="exact"``: every basis set to the top
  eigenvectors of the averaged teacher covariance (one pass over ``eigen_batches`` batches).
* :meth:`PCAKDBlockSetup.init_block_from_data` - ``block_init="data"`` / ``"least_squares"``: each block
  pair initialised from data before its stage (see :mod:`.data_init`).

The mixin reads ``self.net`` (:class:`~.model.PCAKDNet`), ``self.hparams``, the ``eigen_fitted`` and
``blocks_initialised`` buffers and the Lightning module's ``device``/``print``/``_trainer``.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from stylelab.methods.pcakd.data_init import (
    block_convolutions,
    init_block_from_data,
    least_squares_block_init,
)
from stylelab.methods.pcakd.eigenbases import centre, covariance_sum, top_eigenvectors


class PCAKDBlockSetup:
    """Exact eigenbases and data-dependent block initialisations (a mixin of the Lightning module)."""

    hparams: Any
    net: Any
    eigen_fitted: Tensor
    blocks_initialised: Tensor
    device: torch.device
    _trainer: Any
    # also used, from the Lightning module: _images(batch), _fresh_train_batches(), print(...)

    @torch.no_grad()
    def fit_exact_eigenbases(self, batches: Any) -> list[Tensor]:
        """Set every basis to the top eigenvectors of the averaged teacher covariance.

        Args:
            batches: Iterable of datamodule batches (at most ``eigen_batches`` are used).

        Returns:
            The eigenvalues (descending) of the four averaged covariances.
        """
        teacher = self.net.teacher()
        sums: list[Tensor | None] = [None] * 4
        count = 0
        for index, batch in enumerate(batches):
            if index >= self.hparams.eigen_batches:
                break
            images = self._images(
                {k: v.to(self.device) if isinstance(v, Tensor) else v for k, v in batch.items()}
            )
            feats = teacher.features(images, 4)
            for n in range(4):
                term = covariance_sum(centre(feats[n]))
                sums[n] = term if sums[n] is None else sums[n] + term
            count += images.shape[0]
        if count == 0:
            raise ValueError("the exact eigenbasis solver got no training batch")
        eigenvalues = []
        bases = self.net.autoencoder.eigenbases
        for n in range(1, 5):
            vectors, values = top_eigenvectors(sums[n - 1] / count, bases[n].shape[1])
            bases.set_(n, vectors)
            eigenvalues.append(values)
        self.eigen_fitted.fill_(True)
        return eigenvalues

    @torch.no_grad()
    def init_block_from_data(
        self, images: Tensor, n: int, extra_images: list[Tensor] | None = None
    ) -> list[float]:
        """Data-dependent initialisation (``block_init``) of encoder block ``n`` on ``images``.

        Runs once per block (the ``blocks_initialised`` buffer is checkpointed). ``"data"``: the target
        spread is the mean per-channel standard deviation of the teacher's feature projected on the
        block's eigenbasis (what the block must reproduce; 1 without eigenbases). ``"least_squares"``:
        the target is that projection itself.

        Args:
            images: RGB ``(B, 3, H, W)`` batch.
            n: Block 1..4.
            extra_images: More batches for the least-squares fit (its normal equations).

        Returns:
            ``"data"``: measured per-layer spreads before the rescaling; ``"least_squares"``: the
            relative residuals of the encoder's and the decoder's linear fits.
        """
        ae = self.net.autoencoder
        block_input, coefficients = self._block_pair(images, n)
        target_std = float(coefficients.std(dim=(0, 2, 3)).mean()) if coefficients is not None else 1.0
        convs = block_convolutions(ae.encoder.block_parameters(n), ae.encoder)

        def encode(x: Tensor) -> Tensor:
            return ae.encoder.forward_block(n, x)[0]

        if self.hparams.block_init == "least_squares":
            batches = [images, *(extra_images or [])]
            measured = []
            if coefficients is not None:  # a student: its encoder block first (the teacher's is fixed)
                pairs = [(x, y) for x, y in map(lambda b: self._block_pair(b, n), batches) if y is not None]
                measured.append(least_squares_block_init(encode, convs, pairs))
            measured.append(self._least_squares_decoder_init(batches, n))
            parts = ("encoder", "decoder")[-len(measured) :]
            summary = "least-squares init, residuals " + ", ".join(
                f"{part} {v:.3f}" for part, v in zip(parts, measured, strict=True)
            )
        else:
            measured = init_block_from_data(lambda: encode(block_input), convs, target_std)
            summary = f"spreads {[round(v, 3) for v in measured]} -> {target_std:.3g}"
        self.blocks_initialised[n - 1] = True
        if self._trainer is not None:
            self.print(f"PCA-KD block{n}: data-dependent init of {len(convs)} conv(s), {summary}")
        return measured

    @torch.no_grad()
    def _block_pair(self, images: Tensor, n: int) -> tuple[Tensor, Tensor | None]:
        """``(input of encoder block n, projected teacher feature (B, d, H, W))`` for ``images``.

        The second entry is ``None`` without eigenbases (the teacher pipeline).
        """
        ae = self.net.autoencoder
        h = images
        for k in range(1, n):
            h, _ = ae.encoder.forward_block(k, h)
        if not self.net.is_student:
            return h, None
        feature = self.net.teacher().features(images, n)[n - 1]
        coefficients = ae.eigenbases[n].detach().T @ centre(feature)  # type: ignore[index]
        return h, coefficients.reshape(*coefficients.shape[:2], *feature.shape[-2:])

    @torch.no_grad()
    def _least_squares_decoder_init(self, batches: list[Tensor], n: int) -> float:
        """Fit the last conv of decoder block ``n`` to its target (image or previous student feature)."""
        ae = self.net.autoencoder
        pairs = []
        for images in batches:
            h, previous = images, images
            for k in range(1, n + 1):
                previous = h
                h, skip = ae.encoder.forward_block(k, h)
            pairs.append(((h, skip), previous))
        convs = block_convolutions(ae.decoder.block_parameters(n), ae.decoder)
        return least_squares_block_init(
            lambda x: ae.decoder.forward_block(n, *x),
            convs,
            pairs,
            identity_before=False,
            fit_intercept=True,
        )

    def _init_batches(self) -> list[Tensor]:
        """Up to ``eigen_batches - 1`` more training batches for a least-squares block init."""
        if self.hparams.block_init != "least_squares" or self._trainer is None:
            return []
        out = []
        for index, batch in enumerate(self._fresh_train_batches()):
            if index >= self.hparams.eigen_batches - 1:
                break
            out.append(
                self._images({k: v.to(self.device) if isinstance(v, Tensor) else v for k, v in batch.items()})
            )
        return out
