"""A tiny random emotion2vec in the layout FunASR's AutoModel reads from a local directory (config.yaml,
model.pt and, for the finished model, tokens.txt), for tests and the contract checks. Its configuration
has every key of emotion2vec_base's `model_conf` that the model reads, at a few thousand parameters: the
same architecture (conv front end, positional convolution, prenet, ALiBi transformer blocks, extra
tokens), so loading it exercises what loading the real model does. Needs funasr (imported when called).
"""

from __future__ import annotations

from pathlib import Path

import torch
import yaml

# emotion2vec+'s nine labels as its tokens.txt spells them, and one placeholder FunASR masks out
TOKENS = (
    "生气/angry",
    "厌恶/disgusted",
    "恐惧/fearful",
    "开心/happy",
    "中立/neutral",
    "其他/other",
    "难过/sad",
    "吃惊/surprised",
    "<unk>",
    "unuse_1",
)
CONV_SPEC = "[(16, 10, 5)] + [(16, 3, 2)] * 4 + [(16, 2, 2)] + [(16, 2, 2)]"  # wav2vec 2.0's strides: 50 Hz


def tiny_config(*, classifier: bool) -> dict:
    """config.yaml of a 2-block, 32-wide emotion2vec (base: 8 blocks, 768 wide)."""
    audio = {
        "type": "AUDIO",
        "prenet_depth": 1,
        "prenet_layerdrop": 0.0,
        "prenet_dropout": 0.1,
        "start_drop_path_rate": 0.0,
        "end_drop_path_rate": 0.0,
        "num_extra_tokens": 2,
        "init_extra_token_zero": False,  # nonzero extra tokens: removing them must matter
        "mask_noise_std": 0.01,
        "mask_prob_min": None,
        "mask_prob": 0.7,
        "inverse_mask": False,
        "mask_prob_adjust": 0.0,
        "keep_masked_pct": 0.0,
        "mask_length": 5,
        "add_masks": False,
        "remove_masks": False,
        "mask_dropout": 0.0,
        "encoder_zero_mask": True,
        "mask_channel_prob": 0.0,
        "mask_channel_length": 64,
        "ema_local_encoder": False,
        "local_grad_mult": 1.0,
        "use_alibi_encoder": True,
        "alibi_scale": 1.0,
        "learned_alibi": False,
        "alibi_max_pos": None,
        "learned_alibi_scale": True,
        "learned_alibi_scale_per_head": True,
        "learned_alibi_scale_per_layer": False,
        "num_alibi_heads": 2,
        "model_depth": 2,
        "decoder": None,
        "extractor_mode": "layer_norm",
        "feature_encoder_spec": CONV_SPEC,
        "conv_pos_width": 15,
        "conv_pos_groups": 2,
        "conv_pos_depth": 2,
        "conv_pos_pre_ln": False,
    }
    model_conf = {
        "loss_beta": 0.0,
        "loss_scale": None,
        "depth": 2,
        "start_drop_path_rate": 0.0,
        "end_drop_path_rate": 0.0,
        "num_heads": 2,
        "norm_eps": 1e-05,
        "norm_affine": True,
        "encoder_dropout": 0.1,
        "post_mlp_drop": 0.1,
        "attention_dropout": 0.1,
        "activation_dropout": 0.0,
        "dropout_input": 0.0,
        "layerdrop": 0.05,
        "embed_dim": 32,
        "mlp_ratio": 2.0,
        "layer_norm_first": False,
        "average_top_k_layers": 2,
        "end_of_block_targets": False,
        "clone_batch": 1,
        "normalize": True,
        "modalities": {"audio": audio},
    }
    config = {"model": "Emotion2vec", "model_conf": model_conf}
    if classifier:
        config |= {"tokenizer": "CharTokenizer", "tokenizer_conf": {"unk_symbol": "<unk>", "split_with_space": True}}
    return config


def save_tiny_emotion2vec(directory: Path, *, classifier: bool, seed: int = 0) -> Path:
    """Write config.yaml, model.pt (random weights from `seed`) and, with `classifier`, tokens.txt into `directory`."""
    from trustser.encoders.funasr_import import auto_model_class

    auto_model_class()  # funasr imported quietly; importing it registers its model classes
    from funasr.register import tables

    directory.mkdir(parents=True, exist_ok=True)
    config = tiny_config(classifier=classifier)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = tables.model_classes["Emotion2vec"](
            model_conf=config["model_conf"], vocab_size=len(TOKENS) if classifier else -1
        )
    (directory / "config.yaml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    torch.save({"model": model.state_dict()}, directory / "model.pt")
    if classifier:
        (directory / "tokens.txt").write_text("\n".join(TOKENS) + "\n", encoding="utf-8")
    return directory
