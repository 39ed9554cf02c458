"""Shared by test_studies and test_cli_studies: checks of the files the studies write."""
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import numpy as np
from PIL import Image


def image(path) -> np.ndarray:
    """The decoded image (an RGB array), after checking it is a real, non-blank picture."""
    with Image.open(path) as picture:
        picture.load()
        pixels = np.asarray(picture.convert("RGB"))
    assert pixels.shape[0] > 100 and pixels.shape[1] > 100
    assert pixels.std() > 10  # not a blank canvas
    return pixels


def gif_frames(path) -> int:
    with Image.open(path) as picture:
        assert picture.format == "GIF"
        return picture.n_frames


def parse_report(path) -> list[str]:
    """The image sources of report.html, after parsing it strictly as XML (it is XHTML-compatible)."""
    text = Path(path).read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    root = ElementTree.fromstring(text.split("\n", 1)[1])
    return [img.get("src") for img in root.iter("img")]


def report_table(path) -> list[list[str]]:
    root = ElementTree.fromstring(Path(path).read_text(encoding="utf-8").split("\n", 1)[1])
    return [[cell.text for cell in row] for row in root.iter("tr")]
