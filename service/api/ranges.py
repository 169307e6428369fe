"""HTTP Range requests on stored files: one `bytes=` range, as video players send them."""

from __future__ import annotations


def single_range(header: str | None, size: int):
    """(start, end) of a single `bytes=` range, "unsatisfiable", or None to send it all
    (no header, or several ranges: a server may answer those with the whole body)."""
    if not header or not header.startswith("bytes=") or "," in header:
        return None
    first, _, last = header[len("bytes=") :].strip().partition("-")
    try:
        if first == "":
            length = int(last)
            start, end = max(size - length, 0), size - 1
        else:
            start = int(first)
            end = min(int(last), size - 1) if last else size - 1
    except ValueError:
        return None
    if start >= size or start > end:
        return "unsatisfiable"
    return start, end
