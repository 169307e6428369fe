"""A progress bar on stderr for production's `Progress`: one tick per denoising step, then
decode and encode, window by window (recaption and writing the files are too quick to
show)."""

from __future__ import annotations

import sys

from tqdm import tqdm


class TerminalProgress:
    def __init__(self, steps: int, *, windows: int = 1, source: bool = False,
                 enabled: bool = True) -> None:  # fmt: skip
        # Each model call ticks per step, then decode and encode; a source clip, its encode.
        self._bar = tqdm(
            total=(steps + 2) * windows + int(source),
            desc="denoise",
            unit="step",
            file=sys.stderr,
            disable=not enabled,
            dynamic_ncols=True,
            bar_format="{desc:<12} {bar} {n_fmt}/{total_fmt} [{elapsed}<{remaining}]",
        )

    def __call__(self, event) -> None:
        if event.stage not in ("denoise", "decode", "encode"):
            return
        windows = getattr(event, "windows", 1)
        label = event.stage if windows == 1 else f"{event.window}/{windows} {event.stage}"
        self._bar.set_description_str(label)
        # Denoising ticks once per step; decode and encode tick once each, when they end.
        if event.stage == "denoise" or event.step == event.total:
            self._bar.update(1)

    def __enter__(self) -> TerminalProgress:
        return self

    def __exit__(self, *exc_info) -> None:
        self._bar.close()
