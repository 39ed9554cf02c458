"""fastopt.report: report.html references every figure, is well formed, escapes text, tabulates runs."""
import base64
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import numpy as np
import pytest

from fastopt.report import results_table, write_report

Image = pytest.importorskip("PIL.Image")

VOID = {"meta", "img", "br", "hr", "link", "input"}


class TagBalance(HTMLParser):
    """Collects <img> sources and checks that every opened tag is closed in order."""

    def __init__(self):
        super().__init__()
        self.stack, self.images, self.errors = [], [], []

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.images.append(dict(attrs)["src"])
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        if tag == "img":
            self.images.append(dict(attrs)["src"])

    def handle_endtag(self, tag):
        if not self.stack or self.stack.pop() != tag:
            self.errors.append(tag)


def parse(path):
    text = path.read_text(encoding="utf-8")
    checker = TagBalance()
    checker.feed(text)
    checker.close()
    assert checker.errors == [] and checker.stack == []
    root = ET.fromstring(text.split("\n", 1)[1])  # strict XML parse after the doctype line
    return checker.images, root


def picture(path, color):
    Image.new("RGB", (8, 6), color).save(path)
    return path


def history(final_accuracy, seconds):
    return [{"epoch": e, "test_accuracy": acc, "epoch_time": seconds, "total_time": seconds * e}
            for e, acc in enumerate([0.95, 0.972, final_accuracy], start=1)]


@pytest.fixture
def figures(tmp_path):
    out = tmp_path / "report"
    out.mkdir()
    inside = picture(out / "contour.png", "red")
    (out / "curves.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"/>')
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    outside = picture(elsewhere / "confusion.png", "blue")
    return out, inside, outside


def test_report_references_every_figure_and_is_well_formed(figures):
    out, inside, outside = figures
    runs = {"adam": history(0.985, 2.0), "sgd <plain>": history(0.975, 1.5)}
    path = write_report(out, 'MNIST: "adam" & <sgd>', {"Landscape": [inside, "curves.svg"], "Training": outside},
                        runs=runs, intro="a < b & c")
    assert path == out / "report.html"
    images, root = parse(path)
    assert images == ["contour.png", "curves.svg", "confusion.png"]
    assert (out / "confusion.png").read_bytes() == outside.read_bytes()  # copied beside the report
    assert root.find("head/title").text == 'MNIST: "adam" & <sgd>'  # escaped on write, intact on read
    assert [h.text for h in root.iter("h2")] == ["Results", "Landscape", "Training"]
    assert root.find("body/p").text == "a < b & c"
    rows = [[cell.text for cell in row] for row in root.iter("tr")]
    assert rows == [["run", "final test accuracy", "epoch to 97%", "time to 97%", "epoch to 98%", "time to 98%",
                     "time per epoch"],
                    ["adam", "98.50%", "2", "4.0 s", "3", "6.0 s", "2.00 s"],
                    ["sgd <plain>", "97.50%", "2", "3.0 s", "not reached", "not reached", "1.50 s"]]


def test_embedded_report_carries_the_image_bytes(figures):
    out, inside, outside = figures
    path = write_report(out, "embedded", [("Figures", [inside, outside])], embed=True)
    images, _ = parse(path)
    assert [src.split(",")[0] for src in images] == ["data:image/png;base64"] * 2
    assert base64.b64decode(images[0].split(",")[1]) == inside.read_bytes()
    assert base64.b64decode(images[1].split(",")[1]) == outside.read_bytes()


def test_results_table_rows():
    rows = results_table({"fast": history(0.99, 0.5)}, thresholds=(0.96, 0.99))
    assert rows[0][2:6] == ["epoch to 96%", "time to 96%", "epoch to 99%", "time to 99%"]
    assert rows[1] == ["fast", "99.00%", "2", "1.0 s", "3", "1.5 s", "0.50 s"]


def test_missing_or_unsupported_figure_leaves_the_directory_alone(figures, tmp_path):
    out, inside, outside = figures
    before = sorted(p.name for p in out.iterdir())
    with pytest.raises(FileNotFoundError, match="sections: figure 'nowhere.png' not found"):
        write_report(out, "t", {"A": [outside], "B": ["nowhere.png"]})
    notes = tmp_path / "notes.txt"
    notes.write_text("x")
    with pytest.raises(ValueError, match="sections: figure .*notes.txt' must be one of .png, .svg, .gif"):
        write_report(out, "t", {"A": [notes]})
    clash = picture(tmp_path / "contour.png", "green")  # same name as a different figure in out
    with pytest.raises(ValueError, match="sections: 'contour.png' already exists in"):
        write_report(out, "t", {"A": [clash]})
    assert sorted(p.name for p in out.iterdir()) == before
    with pytest.raises(FileNotFoundError):
        write_report(tmp_path / "new", "t", {"A": ["nowhere.png"]})
    assert not (tmp_path / "new").exists()


def test_report_of_real_figures(tmp_path):
    pytest.importorskip("matplotlib")
    from fastopt import plots
    y_true = np.arange(20) % 4
    y_pred = np.where(np.arange(20) % 5 == 0, (y_true + 1) % 4, y_true)
    plots.confusion(y_true, y_pred, dpi=30, save=[tmp_path / "confusion.png", tmp_path / "confusion.svg"])
    path = write_report(tmp_path, "real", {"Confusion": ["confusion.png", "confusion.svg"]})
    images, _ = parse(path)
    assert images == ["confusion.png", "confusion.svg"]
    for name in images:
        assert (tmp_path / name).stat().st_size > 0


def test_captions_replace_the_file_names(figures):
    out, inside, outside = figures
    path = write_report(out, "captioned", [("Figures", [inside, outside])],
                        captions={inside.name: "What the first figure shows & why."})
    text = path.read_text(encoding="utf-8")
    assert "<figcaption>What the first figure shows &amp; why.</figcaption>" in text
    assert f"<figcaption>{outside.stem.replace('_', ' ')}</figcaption>" in text  # no caption given: the name
