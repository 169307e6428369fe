"""Synthetic clips for the toy model: one shape, in one colour, moving one way (or staying
still) on one background colour. Numpy only, seeded, anti-aliased.

Each clip comes with a detailed caption in one fixed style ("a red circle moves to the right
on a black background") and short prompts of the kind a tester types ("red ball going right
on black").
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np

SHAPES = ("circle", "square", "triangle")
COLOURS = {
    "red": (220, 40, 40),
    "green": (40, 190, 60),
    "blue": (50, 80, 230),
    "yellow": (235, 215, 40),
    "purple": (150, 60, 190),
    "orange": (245, 140, 30),
}
BACKGROUNDS = {"black": (15, 15, 15), "white": (240, 240, 240), "gray": (120, 120, 120)}
MOTIONS = ("left", "right", "up", "down", "still")
DIRECTIONS = {"left": (-1, 0), "right": (1, 0), "up": (0, -1), "down": (0, 1), "still": (0, 0)}

CAPTION = "a {colour} {shape} {motion_phrase} on a {background} background"
MOTION_PHRASES = {
    "left": "moves to the left",
    "right": "moves to the right",
    "up": "moves up",
    "down": "moves down",
    "still": "stays still",
}

# How testers say it: a few words each, none of them the caption's own wording for shapes
# and motions.
SHAPE_WORDS = {
    "circle": ("ball", "dot", "round blob", "disc"),
    "square": ("box", "block", "cube", "tile"),
    "triangle": ("pyramid", "wedge", "tri", "arrowhead"),
}
MOTION_WORDS = {
    "left": ("going left", "heading left", "to the left", "sliding left"),
    "right": ("going right", "heading right", "to the right", "sliding right"),
    "up": ("going up", "rising", "flying up", "climbing"),
    "down": ("going down", "falling", "dropping", "sinking"),
    "still": ("not moving", "sitting still", "resting", "staying put"),
}
BACKGROUND_WORDS = {
    "black": ("on black", "black bg", "in the dark", "on a black backdrop"),
    "white": ("on white", "white bg", "on a white backdrop", "on blank white"),
    "gray": ("on gray", "grey bg", "on a grey backdrop", "on grey"),
}


@dataclass(frozen=True)
class ClipSpec:
    shape: str
    colour: str
    motion: str
    background: str
    size: float
    """Radius (half the side of a square), as a share of the frame's width."""
    start: tuple[float, float]
    """Centre at the first frame, as shares of width and height."""

    @property
    def caption(self) -> str:
        return caption(self.colour, self.shape, self.motion, self.background)

    @property
    def trained_caption(self) -> str:
        return trained_caption(self.colour, self.shape, self.motion, self.background)


def trained_caption(colour: str, shape: str, motion: str, background: str) -> str:
    """The caption as training feeds it, "a orange ..." throughout (the shipped tokenizer
    reads "an" as "a": pipeline.toy.model.ALIASES)."""
    return CAPTION.format(
        colour=colour, shape=shape, motion_phrase=MOTION_PHRASES[motion], background=background
    )


def caption(colour: str, shape: str, motion: str, background: str) -> str:
    """ "a red circle moves to the right on a black background"; "an orange ..."."""
    text = trained_caption(colour, shape, motion, background)
    return "an" + text[1:] if colour[0] in "aeiou" else text


def short_prompt(colour: str, shape: str, motion: str, background: str, rng: random.Random) -> str:
    return " ".join(
        (
            colour,
            rng.choice(SHAPE_WORDS[shape]),
            rng.choice(MOTION_WORDS[motion]),
            rng.choice(BACKGROUND_WORDS[background]),
        )
    )


def all_combinations() -> list[tuple[str, str, str, str]]:
    return [
        (colour, shape, motion, background)
        for colour in COLOURS
        for shape in SHAPES
        for motion in MOTIONS
        for background in BACKGROUNDS
    ]


def split_combinations(seed: int = 0, held_out: float = 0.2) -> tuple[list, list]:
    """(training, held-out) combinations. Every colour, shape, motion and background is seen
    in training; only these combinations of them are not."""
    rng = random.Random(seed)
    combos = all_combinations()
    rng.shuffle(combos)
    count = int(len(combos) * held_out)
    held, train = combos[:count], combos[count:]
    for attribute in range(4):  # each value must stay in training
        seen = {combo[attribute] for combo in train}
        for combo in list(held):
            if combo[attribute] not in seen:
                held.remove(combo)
                train.append(combo)
                seen.add(combo[attribute])
    return train, held


def random_spec(combination: tuple[str, str, str, str], rng: random.Random) -> ClipSpec:
    colour, shape, motion, background = combination
    size = rng.choice((0.14, 0.17, 0.2))
    dx, dy = DIRECTIONS[motion]

    # Moving shapes start on the side they leave from, so the whole move stays in frame.
    def start(direction: int) -> float:
        if direction > 0:
            return rng.uniform(0.2, 0.35)
        if direction < 0:
            return rng.uniform(0.65, 0.8)
        return rng.uniform(0.3, 0.7)

    return ClipSpec(shape, colour, motion, background, size, (start(dx), start(dy)))


def _coverage(shape: str, x: np.ndarray, y: np.ndarray, radius: float, pixel: float) -> np.ndarray:
    """How much of each pixel the shape covers (0-1), from a signed distance."""
    if shape == "circle":
        distance = np.hypot(x, y) - radius
    elif shape == "square":
        distance = np.maximum(np.abs(x), np.abs(y)) - radius
    else:  # an upright equilateral triangle around the centre
        k = np.sqrt(3.0)
        r = radius * 1.25
        px, py = np.abs(x), -y + r / 4
        px, py = px - r, py + r / k
        flip = px + k * py > 0
        px, py = np.where(flip, (px - k * py) / 2, px), np.where(flip, (-k * px - py) / 2, py)
        px = px - np.clip(px, -2 * r, 0)
        distance = -np.hypot(px, py) * np.sign(py)
    return np.clip(0.5 - distance / pixel, 0.0, 1.0)


def pixel_centres(size: int) -> tuple[np.ndarray, np.ndarray]:
    """(y, x) of each pixel's centre in a size x size frame, in frame units (0-1)."""
    grid = (np.arange(size) + 0.5) * (1.0 / size)
    return np.meshgrid(grid, grid, indexing="ij")


def draw(shape: str, size: int, centre: tuple[float, float], radius: float) -> np.ndarray:
    """(size, size) coverage (0-1) of the shape at `centre` (frame units) in one frame."""
    y, x = pixel_centres(size)
    return _coverage(shape, x - centre[0], y - centre[1], radius, 1.0 / size)


SPEED = 0.05
"""How far a moving shape goes per frame, as a share of the frame (1.6 px at 32 px, 16 fps):
the same in every clip, so that a continuation knows where the shape goes next."""


def position(spec: ClipSpec, frame: int) -> tuple[float, float]:
    """The shape's centre at `frame`, in frame units, wrapped into [0, 1): a shape that leaves
    one edge comes back in at the opposite one, and never turns round."""
    dx, dy = DIRECTIONS[spec.motion]
    return (spec.start[0] + dx * SPEED * frame) % 1.0, (spec.start[1] + dy * SPEED * frame) % 1.0


def draw_wrapped(shape: str, size: int, centre: tuple[float, float], radius: float) -> np.ndarray:
    """`draw` on a torus: the parts past an edge show at the opposite one."""
    alpha = draw(shape, size, centre, radius)
    for ox in (-1.0, 0.0, 1.0):
        for oy in (-1.0, 0.0, 1.0):
            if (ox or oy) and _reaches(centre, (ox, oy), radius):
                moved = (centre[0] + ox, centre[1] + oy)
                alpha = np.maximum(alpha, draw(shape, size, moved, radius))
    return alpha


def _reaches(centre: tuple[float, float], offset: tuple[float, float], radius: float) -> bool:
    """Whether the copy of a shape moved by `offset` (whole frames) can touch the frame."""
    margin = radius * 1.3 + 0.05
    return all(-margin < c + o < 1.0 + margin for c, o in zip(centre, offset, strict=True))


def render(spec: ClipSpec, *, frames: int = 9, size: int = 32, travel: float = 0.4) -> np.ndarray:
    """(frames, size, size, 3) uint8 RGB: one clip that moves `travel` (frame units) in all."""
    dx, dy = DIRECTIONS[spec.motion]
    background = np.array(BACKGROUNDS[spec.background], np.float32)
    colour = np.array(COLOURS[spec.colour], np.float32)
    out = np.empty((frames, size, size, 3), np.uint8)
    for t in range(frames):
        progress = t / max(frames - 1, 1)
        cx = spec.start[0] + dx * travel * progress
        cy = spec.start[1] + dy * travel * progress
        alpha = draw(spec.shape, size, (cx, cy), spec.size)[..., None]
        out[t] = np.rint(background * (1 - alpha) + colour * alpha).astype(np.uint8)
    return out


def render_wrapped(spec: ClipSpec, *, first: int, frames: int, size: int = 32) -> np.ndarray:
    """(frames, size, size, 3) uint8 RGB: frames first .. first + frames - 1 of an endless
    clip of `spec`, the shape moving SPEED per frame and wrapping at the edges."""
    background = np.array(BACKGROUNDS[spec.background], np.float32)
    colour = np.array(COLOURS[spec.colour], np.float32)
    out = np.empty((frames, size, size, 3), np.uint8)
    for t in range(frames):
        alpha = draw_wrapped(spec.shape, size, position(spec, first + t), spec.size)[..., None]
        out[t] = np.rint(background * (1 - alpha) + colour * alpha).astype(np.uint8)
    return out


def random_wrapped_spec(combination: tuple[str, str, str, str], rng: random.Random) -> ClipSpec:
    """A clip that may start anywhere: the windows after the first of a long clip."""
    colour, shape, motion, background = combination
    size = rng.choice((0.14, 0.17, 0.2))
    return ClipSpec(shape, colour, motion, background, size, (rng.random(), rng.random()))
