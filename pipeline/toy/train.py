"""Training the toy-shapes model from a seed, in stages, each resumable:

1. vae:            the VAE as a plain autoencoder on rendered clips (a little noise on the
                   latent, loss on the decoder output before its [-1, 1] clamp, foreground
                   pixels weighted),
2. latents:        every training clip encoded (posterior mode), per-channel mean and std
                   written into the VAE config,
3. denoiser:       the transformer and the text encoder together, flow matching on the
                   normalised latents with 10 % of captions dropped, noise levels shifted
                   towards noise and the latent cells around the shape weighted,
4. vae_colour:     the whole VAE a little longer, at a lower rate, with one more loss term:
                   each frame's mean colour over the shape, decoded against drawn (the plain
                   stage can paint yellow and orange alike),
   latents_colour: the clips encoded again by that VAE,
   denoiser_tune:  the denoiser of stage 3 on those latents, shortly, at a lower rate and
                   with noise levels unshifted (these three skip when vae_colour_steps is 0),
5. decoder:        the VAE's decoder alone, on the last latents (the encoder stays as it is,
                   so the denoiser's latents stay valid), with a lighter colour term,
6. latents_wrapped: clips that may start anywhere and wrap at the edges (the windows of a long
                   clip after the first), encoded by that VAE,
   continuation:   the transformer taught to continue a clip from its first frame, as Wan 2.2
                   TI2V does: the first latent frame clean (timestep 0) in place of noise, the
                   rest noised, so that one transformer serves text (WanPipeline) and image,
                   extension and long clips (WanImageToVideoPipeline with expand_timesteps);
                   a share of each batch stays text only, on the stage-1 clips, so that text
                   starts keep what they had.

Checkpoints go to OUT_DIR/checkpoints/ every `checkpoint_every` steps and at each stage's end;
a rerun picks up where the last one stopped, and draws the batches an unbroken run would
(each step's randomness is seeded by the seed and the step). The finished model is a
diffusers WanPipeline directory (safetensors) in OUT_DIR.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from pipeline.toy import clips
from pipeline.toy.model import FRAMES, SIZE, TEXT_TOKENS, Z_DIM, build_components

FOREGROUND_WEIGHT = 6.0
CAPTION_DROPOUT = 0.1


@dataclass(frozen=True)
class TrainSettings:
    seed: int = 0
    clips_per_combination: int = 12
    vae_steps: int = 4000
    """Read back from the VAE's reconstructions of held-out clips, shape was right 52 % of
    the time after 2500 steps, 66 % after 3000, 73 % after 3500 and 74 % after 4000; colour
    stayed at 78-87 %: yellow and orange decode close to one colour. (500 last steps at a
    tenth of the rate lowered the loss and lifted shape to 84 %, but the finished model read
    colour 80 % and shape 72 %, against 85 % and 73 % without.) About 0.8 s a step on one
    thread."""
    vae_batch: int = 8
    vae_lr: float = 2e-3
    vae_colour_steps: int = 250
    """After the denoiser: the whole VAE this many steps more with a colour term (0: skip
    it and the two stages after it). Yellow and orange can come out of the plain stage as
    nearly one colour (the VAE shipped before this stage existed painted their centres'
    green 160-190, against 215 and 140); a decoder trained alone on the frozen encoder's
    latents does not part them, the encoder has to. 250 steps at weight 5 lifted colour in
    that VAE's reconstructions of held-out clips from 86 to 95 % (shape 76 -> 72 %; 500 at
    weight 20: 97 and 69 %). The denoiser has to follow the encoder: trained anew on the new
    latents it lost shape (51-64 %), tuned from the old one (denoiser_tune) it kept it. About
    0.7 s a step."""
    vae_colour_lr: float = 5e-4
    vae_colour_weight: float = 5.0
    """The colour term's weight: the squared error of each frame's mean colour over the
    shape's pixels (decoded against drawn, in [-1, 1])."""
    denoiser_steps: int = 6000
    denoiser_batch: int = 32
    denoiser_lr: float = 5e-4
    denoiser_time_shift: float = 2.0
    """Training noise levels are drawn logit-normal, then shifted towards noise (s -> k s /
    (1 + (k - 1) s)) as the scheduler's flow_shift shifts them at inference: the caption
    decides colour, shape and motion at high noise. 1.0: no shift."""
    denoiser_foreground_weight: float = 6.0
    """The loss weight of the latent cells around the shape (the rest weigh 1): the shape
    covers a tenth of the clip, and unweighted the background drowns it. 1.0: no weighting."""
    denoiser_tune_steps: int = 2000
    """The stage-3 denoiser on the colour stage's latents, warm: over the shipped stages 1-3,
    with the default colour stage and decoder, the finished model read colour 95 % and shape
    71 % with noise levels shifted as in stage 3, 97 % and 75 % unshifted (1.0), 95 % and
    70 % with the foreground cells weighted 12. 2000 more steps with no colour stage before
    them lifted shape only from 73 to 74 %. About 0.2 s a step."""
    denoiser_tune_lr: float = 2e-4
    denoiser_tune_time_shift: float = 1.0
    """Unshifted: the tune spends more of its steps at low noise, where corners are drawn."""
    decoder_steps: int = 750
    """Last, the decoder alone on the frozen encoder's latents (the denoiser's latents stay
    valid), with a lighter colour term (0: skip it). After the colour stage it lifted shape
    in the reconstructions from 69 to 74 % (500 steps), 79 % (750) and 78 % (1000), colour
    staying at 98 %; the finished model's shape rose by 1-3 points (without it: 72, 72, 71 %
    over three eval seeds, with it 75, 71, 72 %). Trained instead on the denoiser's one-step
    estimates from noised latents (what it meets at inference) it did no better (71 %).
    About 0.5 s a step."""
    decoder_lr: float = 5e-4
    decoder_colour_weight: float = 3.0
    sharp_loss: bool = False
    """Stages 4 and 5 (vae_colour, decoder) with an absolute pixel error instead of the
    squared one, and an absolute error of the frames' differences between neighbouring
    pixels (the edges) beside it, both weighted by the foreground as the pixels are: the
    squared error lets the decoder round a moving square's corners (the average of where
    they might be). Read back from 120 held-out wrapped clips, the VAE's reconstructions
    drew squares right 39 % of the time (circles 100 %, triangles 63 %, colour 89 %); with
    this loss in stages 4-5 (from stages 1-3 as shipped), 50 % (98, 66, 92 %). The decoder
    of the shipped VAE trained 1500 steps more with it reached 72 % (100, 80, 98 %), and
    text starts over it read colour 100 %, shape 78 % (shipped: 96, 73 %), but 20 s clips
    no better (shape 56 %): moving squares come out round from the denoiser (2-6 of 20
    text starts read square, where the decoder alone draws 72 % of them). That decoder
    would add 15 minutes to a recipe at its 90-minute budget; off."""
    wrapped_clips_per_combination: int = 12
    continuation_steps: int = 2500
    """The transformer alone (the text encoder stays as it is), from the tuned denoiser.
    Read back per second from 10 s clips of 10 held-out prompts: 1500 steps of batch 32 at
    2e-4 continued barely at all (motion 30 %); 2500 of batch 16 at 1e-3 read colour 82 %,
    shape 62 %, motion 92 %, background 100 % (at 5e-4: 82, 59, 93, 96 %). Conditioning
    half the samples on a worn first frame (larger or smaller, blurred, colour off) read
    worse after 2000 steps (71-76 % colour). About 0.17 s a step."""
    continuation_batch: int = 16
    continuation_lr: float = 1e-3
    continuation_time_shift: float = 2.0
    """As the denoiser's: where the shape goes next is decided at high noise."""
    continuation_text_share: float = 0.5
    """The share of each batch with no condition: text-only starts on the stage-1 clips."""
    continuation_condition_noise: float = 0.1
    """The condition latent is given with noise of a standard deviation drawn up to this
    (normalised units): at inference it is a decoded frame encoded again, not a drawn one."""
    continuation_decoded_share: float = 0.0
    """The share of conditioned samples whose condition is what inference gives a window:
    the last frame of the window before as the VAE decodes it (softer than drawn: a square's
    corners round off), encoded again; the rest are conditioned on the drawn frame's
    encoding. The loss still asks for the drawn clip, so the model may learn to draw the
    shape sharp again from a soft start. Over the shipped stages 1-5, on 20 s clips of the
    10 held-out prompts of the README, per second: 0.5 read colour 99 %, shape 60.5 %,
    motion 89 %, background 100 % (0: 100, 55.5, 90, 100 %); 1.0 read shape 59.5 %. Within
    what seeds move; off."""
    checkpoint_every: int = 500

    @classmethod
    def quick(cls) -> TrainSettings:
        """A few steps of each stage (tests)."""
        return cls(
            clips_per_combination=1,
            vae_steps=3,
            vae_batch=2,
            vae_colour_steps=2,
            denoiser_steps=3,
            denoiser_tune_steps=2,
            decoder_steps=2,
            wrapped_clips_per_combination=1,
            continuation_steps=2,
            continuation_batch=2,
            denoiser_batch=2,
            checkpoint_every=2,
        )


def _dataset(settings: TrainSettings) -> tuple[np.ndarray, list[str], np.ndarray]:
    """(clips as float32 in [-1, 1] (N, 3, F, H, W), captions, foreground masks (N, 1, F, H, W))."""
    rng = random.Random(settings.seed)
    train, _ = clips.split_combinations(settings.seed)
    videos, captions, masks = [], [], []
    for combo in train:
        for _ in range(settings.clips_per_combination):
            spec = clips.random_spec(combo, rng)
            frames = clips.render(spec, frames=FRAMES, size=SIZE).astype(np.float32)
            background = np.array(clips.BACKGROUNDS[spec.background], np.float32)
            masks.append((np.abs(frames - background).sum(axis=3) > 30)[None])
            videos.append(frames.transpose(3, 0, 1, 2) / 127.5 - 1.0)
            captions.append(spec.trained_caption)
    return np.stack(videos), captions, np.stack(masks).astype(np.float32)


def _wrapped_dataset(
    settings: TrainSettings, *, lead_ins: bool = False
) -> tuple[np.ndarray, list[str], np.ndarray, np.ndarray | None]:
    """As `_dataset`, of clips that start anywhere and wrap at the edges; with `lead_ins`,
    also each clip's lead-in: the window of the same clip that ends on its first frame
    (N, 3, F, H, W), else None."""
    rng = random.Random(f"{settings.seed}:wrapped")
    train, _ = clips.split_combinations(settings.seed)
    videos, captions, masks, leads = [], [], [], []
    for combo in train:
        for _ in range(settings.wrapped_clips_per_combination):
            spec = clips.random_wrapped_spec(combo, rng)
            frames = clips.render_wrapped(spec, first=0, frames=FRAMES, size=SIZE)
            frames = frames.astype(np.float32)
            background = np.array(clips.BACKGROUNDS[spec.background], np.float32)
            masks.append((np.abs(frames - background).sum(axis=3) > 30)[None])
            videos.append(frames.transpose(3, 0, 1, 2) / 127.5 - 1.0)
            captions.append(spec.trained_caption)
            if lead_ins:
                lead = clips.render_wrapped(spec, first=1 - FRAMES, frames=FRAMES, size=SIZE)
                leads.append(lead.astype(np.float32).transpose(3, 0, 1, 2) / 127.5 - 1.0)
    return (
        np.stack(videos),
        captions,
        np.stack(masks).astype(np.float32),
        np.stack(leads) if lead_ins else None,
    )


def _decoded_first_frames(vae, lead_ins):
    """What a long clip's window is conditioned on at inference, for each lead-in (N, 3, F,
    H, W): its last frame as the VAE gives it back (encoded, decoded, in uint8 steps), encoded
    again on its own as a first latent frame (N, C, 1, h, w)."""
    import torch

    with torch.inference_mode():
        firsts = []
        for i in range(0, len(lead_ins), 64):
            z = vae.encode(lead_ins[i : i + 64]).latent_dist.mode()
            last = vae.decode(z).sample[:, :, -1:].clamp(-1, 1)
            last = torch.round((last + 1) * 127.5) / 127.5 - 1
            firsts.append(vae.encode(last).latent_dist.mode())
        return torch.cat(firsts)


def _learning_rate(base: float, index: int, steps: int) -> float:
    """The denoiser's: a short warm-up, then a cosine decay to a tenth."""
    warmup = max(1, steps // 50)
    progress = index / steps
    return base * min(1.0, (index + 1) / warmup) * (0.1 + 0.45 * (1 + math.cos(math.pi * progress)))


def _latent_weights(masks, weight: float, space: int, time: int):
    """Foreground masks (N, 1, F, H, W) -> loss weights on the latent grid of a VAE that
    compresses `space`x in space and (causally) `time`x in time: a latent cell whose pixels
    hold any foreground, or whose neighbour's do, weighs `weight`. The shape is a tenth of the clip;
    unweighted, the background drowns it."""
    import torch
    import torch.nn.functional as F

    # Causal in time: latent frame 0 is frame 0, latent frame k frames (k-1)*time+1 .. k*time.
    first, rest = masks[:, :, :1], masks[:, :, 1:]
    rest = rest.reshape(*rest.shape[:2], -1, time, *rest.shape[3:]).amax(dim=3)
    pooled = F.max_pool3d(torch.cat([first, rest], 2), (1, space, space))
    grown = F.max_pool3d(pooled, (1, 3, 3), stride=1, padding=(0, 1, 1))
    return 1.0 + (weight - 1.0) * grown


def _pixel_loss(out, x, weights, sharp: bool):
    """The weighted squared pixel error, or with `sharp` the absolute one plus the absolute
    error of the differences between neighbouring pixels (see TrainSettings.sharp_loss)."""
    if not sharp:
        return (weights * (out - x) ** 2).mean()
    loss = (weights * (out - x).abs()).mean()
    for dim in (3, 4):
        edge_weights = weights.narrow(dim, 0, weights.shape[dim] - 1).maximum(
            weights.narrow(dim, 1, weights.shape[dim] - 1)
        )
        loss = loss + (edge_weights * (out.diff(dim=dim) - x.diff(dim=dim)).abs()).mean()
    return loss


def _foreground_colour_error(out, x, masks):
    """Mean squared difference of each frame's mean colour over the shape's pixels: the
    per-pixel loss lets the decoder paint yellow and orange alike, this term does not."""
    area = masks.sum(dim=(3, 4)).clamp_min(1.0)
    decoded = (out * masks).sum(dim=(3, 4)) / area
    drawn = (x * masks).sum(dim=(3, 4)) / area
    return ((decoded - drawn) ** 2).mean()


def _decode_unclamped(vae, z):
    """AutoencoderKLWan._decode without its final clamp: gradients reach saturated pixels."""
    import torch

    vae.clear_cache()
    x = vae.post_quant_conv(z)
    outs = []
    for i in range(z.shape[2]):
        vae._conv_idx = [0]
        outs.append(
            vae.decoder(
                x[:, :, i : i + 1],
                feat_cache=vae._feat_map,
                feat_idx=vae._conv_idx,
                first_chunk=i == 0,
            )
        )
    vae.clear_cache()
    return torch.cat(outs, 2)


def _encode_all(vae, videos):
    """The posterior mode of every clip in `videos` (N, 3, F, H, W), 64 at a time."""
    import torch

    with torch.inference_mode():
        return torch.cat(
            [vae.encode(videos[i : i + 64]).latent_dist.mode() for i in range(0, len(videos), 64)]
        )


def _update(optimizer, parameters, loss) -> float:
    """One step of the denoisers' optimizer, gradients clipped to norm 1; returns the loss."""
    import torch

    optimizer.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(parameters, 1.0)
    optimizer.step()
    return loss.item()


class _Checkpoints:
    def __init__(self, directory: Path) -> None:
        self.directory = directory / "checkpoints"
        self.directory.mkdir(parents=True, exist_ok=True)

    def path(self, stage: str) -> Path:
        return self.directory / f"{stage}.pt"

    def load(self, stage: str):
        import torch

        path = self.path(stage)
        return torch.load(path, weights_only=False) if path.is_file() else None

    def save(self, stage: str, state: dict) -> None:
        import torch

        scratch = self.path(stage).with_suffix(".tmp")
        torch.save(state, scratch)
        scratch.replace(self.path(stage))


def _loop(
    name: str,
    steps: int,
    state: dict,
    checkpoints: _Checkpoints,
    every: int,
    step: Callable[[int], float],
    modules: dict,
    optimizer,
) -> None:
    """Train `modules` with `step` from the checkpointed step on, saving every `every` steps
    and at the end; they are left in eval mode."""
    from tqdm import tqdm

    for module in modules.values():
        module.train()
    start = state.get("step", 0)
    bar = tqdm(total=steps, initial=start, desc=name, unit="step", dynamic_ncols=True)
    losses: list[float] = []
    for index in range(start, steps):
        losses.append(step(index))
        bar.update(1)
        if len(losses) >= 20:
            bar.set_postfix(loss=f"{sum(losses) / len(losses):.4f}")
            losses.clear()
        if (index + 1) % every == 0 or index + 1 == steps:
            checkpoints.save(
                name,
                {
                    "step": index + 1,
                    "modules": {key: m.state_dict() for key, m in modules.items()},
                    "optimizer": optimizer.state_dict(),
                },
            )
    bar.close()
    for module in modules.values():
        module.eval()


def train(out_dir: Path, settings: TrainSettings = TrainSettings(), *, log=print) -> Path:
    """Train (or resume training) the toy model into `out_dir`; returns it."""
    import torch

    out_dir = Path(out_dir)
    checkpoints = _Checkpoints(out_dir)
    (checkpoints.directory / "settings.json").write_text(json.dumps(asdict(settings), indent=1))
    torch.manual_seed(settings.seed)
    components = build_components(settings.seed)
    vae, transformer = components["vae"], components["transformer"]
    text_encoder, tokenizer = components["text_encoder"], components["tokenizer"]
    videos, captions, masks = _dataset(settings)
    log(f"{len(videos)} training clips of {FRAMES} frames at {SIZE}x{SIZE}")
    data = torch.from_numpy(videos)
    mask_tensor = torch.from_numpy(masks)
    weights = 1.0 + (FOREGROUND_WEIGHT - 1.0) * mask_tensor

    def step_generator(stage: int, index: int):
        # Seeded by the step, so that a resumed run draws what an unbroken one would have.
        # Each stage keeps the id it was given when it was added (vae 1, vae_colour 2,
        # denoiser 3, decoder 4, denoiser_tune 5), whatever its place in the order.
        return torch.Generator().manual_seed((settings.seed * 1_000 + stage) * 1_000_000 + index)

    def vae_stage(
        name: str,
        stage: int,
        steps: int,
        lr: float,
        colour_weight: float,
        latents_of: Callable | None = None,
        sharp: bool = False,
    ) -> None:
        """`latents_of` (batch indices -> latents): the decoder trains alone on them."""
        state = checkpoints.load(name) or {}
        if state:
            vae.load_state_dict(state["modules"]["vae"])
        parameters = (
            [*vae.decoder.parameters(), *vae.post_quant_conv.parameters()]
            if latents_of
            else list(vae.parameters())
        )
        optimizer = torch.optim.AdamW(parameters, lr=lr, weight_decay=0.0)
        if state.get("optimizer"):
            optimizer.load_state_dict(state["optimizer"])

        def vae_step(index: int) -> float:
            generator = step_generator(stage, index)
            batch = torch.randint(len(data), (settings.vae_batch,), generator=generator)
            x = data[batch]
            z = latents_of(batch) if latents_of else vae.encode(x).latent_dist.mode()
            z = z + 0.05 * torch.randn(z.shape, generator=generator)
            out = _decode_unclamped(vae, z)
            loss = _pixel_loss(out, x, weights[batch], sharp)
            if colour_weight:
                loss = loss + colour_weight * _foreground_colour_error(out, x, mask_tensor[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            return loss.item()

        _loop(
            name,
            steps,
            state,
            checkpoints,
            settings.checkpoint_every,
            vae_step,
            {"vae": vae},
            optimizer,
        )

    def latents_stage(name: str) -> dict:
        """The posterior mode of every clip, and their per-channel statistics."""
        state = checkpoints.load(name)
        if state is None:
            latents = _encode_all(vae, data)
            state = {
                "latents": latents,
                "mean": latents.mean(dim=(0, 2, 3, 4)),
                "std": latents.std(dim=(0, 2, 3, 4)).clamp_min(1e-3),
            }
            checkpoints.save(name, state)
        vae.register_to_config(
            latents_mean=state["mean"].tolist(), latents_std=state["std"].tolist()
        )
        return state

    latent_weights = _latent_weights(
        mask_tensor,
        settings.denoiser_foreground_weight,
        vae.config.scale_factor_spatial,
        vae.config.scale_factor_temporal,
    )

    def encode_text(texts: list[str]):
        tokens = tokenizer(
            texts,
            padding="max_length",
            max_length=TEXT_TOKENS,
            truncation=True,
            add_special_tokens=True,
            return_attention_mask=True,
            return_tensors="pt",
        )
        hidden = text_encoder(tokens.input_ids, tokens.attention_mask).last_hidden_state
        # as WanPipeline does: the real tokens, then zeros up to the budget
        return hidden * tokens.attention_mask[..., None]

    def denoiser_stage(
        name: str, stage: int, steps: int, lr: float, time_shift: float, latents: dict
    ) -> None:
        """Transformer and text encoder together, from where they are."""
        state = checkpoints.load(name) or {}
        if state:
            transformer.load_state_dict(state["modules"]["transformer"])
            text_encoder.load_state_dict(state["modules"]["text_encoder"])
        parameters = [*transformer.parameters(), *text_encoder.parameters()]
        optimizer = torch.optim.AdamW(parameters, lr=lr, weight_decay=0.01)
        if state.get("optimizer"):
            optimizer.load_state_dict(state["optimizer"])
        shape = (1, Z_DIM, 1, 1, 1)
        normalised = (latents["latents"] - latents["mean"].view(shape)) / latents["std"].view(shape)

        def denoiser_step(index: int) -> float:
            for group in optimizer.param_groups:
                group["lr"] = _learning_rate(lr, index, steps)
            generator = step_generator(stage, index)
            caption_rng = random.Random(
                f"{settings.seed}:{index}" if stage == 3 else f"{settings.seed}:{stage}:{index}"
            )
            batch = torch.randint(len(normalised), (settings.denoiser_batch,), generator=generator)
            x0 = normalised[batch]
            texts = [
                "" if caption_rng.random() < CAPTION_DROPOUT else captions[i]
                for i in batch.tolist()
            ]
            noise = torch.randn(x0.shape, generator=generator)
            s = torch.sigmoid(torch.randn(len(batch), generator=generator))  # logit-normal
            s = time_shift * s / (1 + (time_shift - 1) * s)
            x_t = (1 - s.view(-1, 1, 1, 1, 1)) * x0 + s.view(-1, 1, 1, 1, 1) * noise
            prediction = transformer(
                hidden_states=x_t,
                timestep=s * 1000,
                encoder_hidden_states=encode_text(texts),
                return_dict=False,
            )[0]
            loss = (latent_weights[batch] * (prediction - (noise - x0)) ** 2).mean()
            return _update(optimizer, parameters, loss)

        _loop(
            name,
            steps,
            state,
            checkpoints,
            settings.checkpoint_every,
            denoiser_step,
            {"transformer": transformer, "text_encoder": text_encoder},
            optimizer,
        )

    def continuation_stage(
        plain: dict, wrapped, wrapped_captions: list[str], wrapped_weights, decoded_first
    ):
        """The transformer alone: text-only samples from the stage-1 clips, conditioned ones
        (first latent frame clean, at timestep 0, and left out of the loss) from `wrapped`,
        all normalised by the statistics in the VAE's config."""
        name = "continuation"
        steps = settings.continuation_steps
        lr = settings.continuation_lr
        state = checkpoints.load(name) or {}
        if state:
            transformer.load_state_dict(state["modules"]["transformer"])
        parameters = list(transformer.parameters())
        optimizer = torch.optim.AdamW(parameters, lr=lr, weight_decay=0.01)
        if state.get("optimizer"):
            optimizer.load_state_dict(state["optimizer"])
        shape = (1, Z_DIM, 1, 1, 1)
        mean, std = plain["mean"].view(shape), plain["std"].view(shape)
        plain_latents = (plain["latents"] - mean) / std
        wrapped_latents = (wrapped - mean) / std
        decoded_latents = None if decoded_first is None else (decoded_first - mean) / std
        patch = transformer.config.patch_size
        frame_tokens = (plain_latents.shape[3] // patch[1]) * (plain_latents.shape[4] // patch[2])
        for module in (text_encoder,):
            module.requires_grad_(False)

        def continuation_step(index: int) -> float:
            for group in optimizer.param_groups:
                group["lr"] = _learning_rate(lr, index, steps)
            generator = step_generator(6, index)
            caption_rng = random.Random(f"{settings.seed}:6:{index}")
            n = settings.continuation_batch
            text_only = torch.rand(n, generator=generator) < settings.continuation_text_share
            plain_batch = torch.randint(len(plain_latents), (n,), generator=generator)
            wrapped_batch = torch.randint(len(wrapped_latents), (n,), generator=generator)
            pick = text_only.view(-1, 1, 1, 1, 1)
            x0 = torch.where(pick, plain_latents[plain_batch], wrapped_latents[wrapped_batch])
            weight = torch.where(
                pick, latent_weights[plain_batch], wrapped_weights[wrapped_batch]
            ).clone()
            texts = [
                ""
                if caption_rng.random() < CAPTION_DROPOUT
                else (captions[i] if alone else wrapped_captions[j])
                for alone, i, j in zip(
                    text_only.tolist(), plain_batch.tolist(), wrapped_batch.tolist(), strict=True
                )
            ]
            noise = torch.randn(x0.shape, generator=generator)
            s = torch.sigmoid(torch.randn(n, generator=generator))  # logit-normal
            shift = settings.continuation_time_shift
            s = (shift * s / (1 + (shift - 1) * s)).view(-1, 1, 1, 1, 1)
            x_t = (1 - s) * x0 + s * noise
            conditioned = ~text_only
            spread = settings.continuation_condition_noise * torch.rand(n, generator=generator)
            first = x0[:, :, :1] + spread.view(-1, 1, 1, 1, 1) * torch.randn(
                x0[:, :, :1].shape, generator=generator
            )
            if decoded_latents is not None:
                # drawn after the rest, so that a share of 0 draws what the recipe did before
                decoded = torch.rand(n, generator=generator) < settings.continuation_decoded_share
                first = torch.where(
                    decoded.view(-1, 1, 1, 1, 1),
                    decoded_latents[wrapped_batch] + (first - x0[:, :, :1]),  # same noise
                    first,
                )
            x_t[conditioned, :, :1] = first[conditioned]
            weight[conditioned, :, :1] = 0.0
            timestep = (s.view(-1, 1) * 1000).expand(n, x0.shape[2] * frame_tokens).clone()
            timestep[conditioned, :frame_tokens] = 0.0
            with torch.no_grad():
                text = encode_text(texts)
            prediction = transformer(
                hidden_states=x_t,
                timestep=timestep,
                encoder_hidden_states=text,
                return_dict=False,
            )[0]
            loss = (weight * (prediction - (noise - x0)) ** 2).mean()
            return _update(optimizer, parameters, loss)

        _loop(
            name,
            steps,
            state,
            checkpoints,
            settings.checkpoint_every,
            continuation_step,
            {"transformer": transformer},
            optimizer,
        )
        text_encoder.requires_grad_(True)

    # 1. VAE, 2. latents, 3. denoiser
    vae_stage("vae", 1, settings.vae_steps, settings.vae_lr, 0.0)
    latents = latents_stage("latents")
    denoiser_stage(
        "denoiser",
        3,
        settings.denoiser_steps,
        settings.denoiser_lr,
        settings.denoiser_time_shift,
        latents,
    )

    # 4. The VAE with the colour term, then its latents and the denoiser again, shortly
    if settings.vae_colour_steps:
        vae_stage(
            "vae_colour",
            2,
            settings.vae_colour_steps,
            settings.vae_colour_lr,
            settings.vae_colour_weight,
            sharp=settings.sharp_loss,
        )
        latents = latents_stage("latents_colour")
        denoiser_stage(
            "denoiser_tune",
            5,
            settings.denoiser_tune_steps,
            settings.denoiser_tune_lr,
            settings.denoiser_tune_time_shift,
            latents,
        )

    # 5. The decoder alone: the encoder, and so the latents the denoiser learnt, stay as they are
    vae_stage(
        "decoder",
        4,
        settings.decoder_steps,
        settings.decoder_lr,
        settings.decoder_colour_weight,
        latents_of=lambda batch: latents["latents"][batch],
        sharp=settings.sharp_loss,
    )

    # 6. Continuation: the transformer learns to go on from a clip's first frame
    if settings.continuation_steps:
        wrapped_videos, wrapped_captions, wrapped_masks, lead_ins = _wrapped_dataset(
            settings, lead_ins=bool(settings.continuation_decoded_share)
        )
        state = checkpoints.load("latents_wrapped")
        if state is None:
            state = {"latents": _encode_all(vae, torch.from_numpy(wrapped_videos))}
            checkpoints.save("latents_wrapped", state)
        if settings.continuation_decoded_share and "decoded_first" not in state:
            state["decoded_first"] = _decoded_first_frames(vae, torch.from_numpy(lead_ins))
            checkpoints.save("latents_wrapped", state)
        continuation_stage(
            latents,
            state["latents"],
            wrapped_captions,
            _latent_weights(
                torch.from_numpy(wrapped_masks),
                settings.denoiser_foreground_weight,
                vae.config.scale_factor_spatial,
                vae.config.scale_factor_temporal,
            ),
            state.get("decoded_first") if settings.continuation_decoded_share else None,
        )

    # 7. The diffusers directory
    from diffusers import WanPipeline

    from pipeline.toy.model import add_aliases, build_tokenizer

    shipped = build_tokenizer(aliases=True)
    add_aliases(text_encoder, shipped)
    components = {**components, "tokenizer": shipped}
    WanPipeline(**components).save_pretrained(out_dir, safe_serialization=True)
    log(f"saved the toy model to {out_dir}")
    return out_dir


SEEDED_STAGES = {
    "decoder": ("vae", "denoiser", "vae_colour", "denoiser_tune", "decoder"),
    "denoiser": ("vae", "denoiser"),
}
"""What `seed_from_model` can mark done: stages 1-5 (a model of the recipe before the
continuation stage), or stages 1-3 (one from before the colour stages)."""


def seed_from_model(
    model_dir: Path,
    out_dir: Path,
    settings: TrainSettings,
    *,
    through: str = "decoder",
    log=print,
) -> None:
    """Checkpoints in `out_dir` that mark the stages up to `through` done with the modules
    of the finished model in `model_dir` (its VAE, encoder and decoder both, its transformer
    and text encoder), so that `train` runs only the stages after them. The latents are that
    VAE's encodings of the training clips, with the statistics in its config."""
    import torch
    from diffusers import WanPipeline

    checkpoints = _Checkpoints(Path(out_dir))
    pipe = WanPipeline.from_pretrained(model_dir)
    vae = pipe.vae.eval()
    # Training reads the tokenizer without the alias pieces (they come last, and get their
    # rows again when the model is saved).
    from pipeline.toy.model import build_tokenizer

    trained = len(build_tokenizer())
    if pipe.text_encoder.get_input_embeddings().weight.shape[0] > trained:
        pipe.text_encoder.resize_token_embeddings(trained)
    videos, _, _ = _dataset(settings)
    encoded = _encode_all(vae, torch.from_numpy(videos))
    latents = {
        "latents": encoded,
        "mean": torch.tensor(vae.config.latents_mean),
        "std": torch.tensor(vae.config.latents_std),
    }
    done = {
        "vae": (settings.vae_steps, {"vae": vae}),
        "denoiser": (
            settings.denoiser_steps,
            {"transformer": pipe.transformer, "text_encoder": pipe.text_encoder},
        ),
        "vae_colour": (settings.vae_colour_steps, {"vae": vae}),
        "denoiser_tune": (
            settings.denoiser_tune_steps,
            {"transformer": pipe.transformer, "text_encoder": pipe.text_encoder},
        ),
        "decoder": (settings.decoder_steps, {"vae": vae}),
    }
    stages = SEEDED_STAGES[through]
    for stage in stages:
        step, modules = done[stage]
        state = {key: module.state_dict() for key, module in modules.items()}
        checkpoints.save(stage, {"step": step, "modules": state, "optimizer": None})
    checkpoints.save("latents", latents)
    if "vae_colour" in stages:
        checkpoints.save("latents_colour", latents)
    numbers = "1-5" if through == "decoder" else "1-3"
    log(f"stages {numbers} marked done with the model in {model_dir} ({', '.join(stages)})")
