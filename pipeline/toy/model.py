"""The toy-shapes model: a WanPipeline small enough to train on a 2-core CPU.

VAE 32x32x9 -> 8x8x3 latents with 8 channels; a 4-layer transformer; a 2-layer UMT5 text
encoder over a word-level tokenizer built in memory from the toy vocabulary (other words fall
back to letters). Sizes follow ../shared/notes/toy-model-recipe.md.
"""

from __future__ import annotations

from pipeline.toy import clips

SIZE, FRAMES = 32, 9
TEXT_TOKENS = 16
"""Prompt tokens the encoder reads (the preset's text_max_tokens): training pads to this."""
Z_DIM = 8


def vocabulary() -> list[str]:
    words: list[str] = []
    texts = [
        clips.trained_caption(*combo) for combo in clips.all_combinations()[:: len(clips.MOTIONS)]
    ]
    texts += [phrase for phrase in clips.MOTION_PHRASES.values()]
    texts += [" ".join(v) for v in clips.SHAPE_WORDS.values()]
    texts += [" ".join(v) for v in clips.MOTION_WORDS.values()]
    texts += [" ".join(v) for v in clips.BACKGROUND_WORDS.values()]
    texts += [" ".join(clips.COLOURS), " ".join(clips.SHAPES), " ".join(clips.BACKGROUNDS)]
    for text in texts:
        for word in text.lower().split():
            if word not in words:
                words.append(word)
    return words


ALIASES = {"an": "a"}
"""Words the shipped tokenizer has a piece for that reads exactly as another word's (the
text encoder's rows are copies): captions say "an orange circle", the model was trained
on "a orange circle"."""


def build_tokenizer(*, aliases: bool = False):
    """The tokenizer training uses; with `aliases`, the one shipped (ALIASES' pieces last, so
    every other piece keeps its id)."""
    from pipeline.tiny import word_tokenizer

    return word_tokenizer(vocabulary(), later_words=tuple(ALIASES) if aliases else ())


def add_aliases(text_encoder, tokenizer) -> None:
    """Give `text_encoder` rows for the alias pieces of `tokenizer` (build_tokenizer with
    aliases), each a copy of the row of the word it stands for."""
    import torch

    base = text_encoder.get_input_embeddings().weight.shape[0]
    text_encoder.resize_token_embeddings(len(tokenizer))
    weight = text_encoder.get_input_embeddings().weight
    with torch.no_grad():
        for alias, word in ALIASES.items():
            alias_id = tokenizer.convert_tokens_to_ids("\u2581" + alias)
            assert alias_id >= base, "alias pieces come after the trained ones"
            weight[alias_id] = weight[tokenizer.convert_tokens_to_ids("\u2581" + word)]


def build_components(seed: int = 0) -> dict:
    """Untrained components of the pipeline, seeded."""
    import torch
    from diffusers import AutoencoderKLWan, FlowMatchEulerDiscreteScheduler, WanTransformer3DModel
    from transformers import UMT5Config, UMT5EncoderModel

    tokenizer = build_tokenizer()
    torch.manual_seed(seed)
    vae = AutoencoderKLWan(
        base_dim=16,
        z_dim=Z_DIM,
        dim_mult=[1, 2, 2],
        num_res_blocks=1,
        temperal_downsample=[True, True],
        latents_mean=[0.0] * Z_DIM,
        latents_std=[1.0] * Z_DIM,
        scale_factor_spatial=4,
        scale_factor_temporal=4,
    )
    torch.manual_seed(seed + 1)
    transformer = WanTransformer3DModel(
        patch_size=(1, 2, 2),
        num_attention_heads=4,
        attention_head_dim=32,
        in_channels=Z_DIM,
        out_channels=Z_DIM,
        text_dim=64,
        freq_dim=256,
        ffn_dim=256,
        num_layers=4,
        cross_attn_norm=True,
        qk_norm="rms_norm_across_heads",
        rope_max_seq_len=32,
    )
    torch.manual_seed(seed + 2)
    text_encoder = UMT5EncoderModel(
        UMT5Config(
            vocab_size=len(tokenizer),
            d_model=64,
            d_kv=16,
            d_ff=128,
            num_layers=2,
            num_heads=4,
            dropout_rate=0.0,
            relative_attention_num_buckets=8,
        )
    )
    return {
        "tokenizer": tokenizer,
        "text_encoder": text_encoder,
        "transformer": transformer,
        "vae": vae,
        "scheduler": FlowMatchEulerDiscreteScheduler(shift=2.0),
    }
