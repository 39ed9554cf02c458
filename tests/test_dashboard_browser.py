"""The dashboard end to end in a real browser: Debian's chromium driven by Playwright, against the app served
on 127.0.0.1 on a free port.  Skipped, with the reason, where Panel, Playwright or Chromium is missing
(``apt-get install -y chromium``; Playwright's own browser download is not used)."""
import os
import shutil
import socket
from urllib.parse import parse_qs, urlparse

import numpy as np
import pytest

from fastopt import landscape

pytest.importorskip("panel", reason="the dashboard needs Panel: pip install fastopt[dashboard]")
sync_api = pytest.importorskip("playwright.sync_api", reason="browser tests need playwright and pytest-playwright")

CHROMIUM = os.environ.get("FASTOPT_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
if CHROMIUM is None:
    pytest.skip("browser tests need Debian's chromium (apt-get install -y chromium) or FASTOPT_CHROMIUM",
                allow_module_level=True)

TIMEOUT_MS = 30000
QUERY = "?function=rosenbrock&optimizers=sgd,adam&steps=400"
SOURCE = "(name) => Bokeh.documents[0].get_model_by_name(name)"


@pytest.fixture(scope="module")
def port():
    from fastopt.dashboard.server import free_port, serve
    port = free_port()
    server = serve(port=port, show=False, threaded=True)  # 127.0.0.1 by default
    for _ in range(200):  # until it accepts connections
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            server.join(0.05)
    yield port
    server.stop()


@pytest.fixture(scope="module")
def base_url(port):
    return f"http://127.0.0.1:{port}/"


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    page = browser.new_page(viewport={"width": 1500, "height": 1100})
    page.set_default_timeout(TIMEOUT_MS)
    yield page
    page.close()


def _open(page, url):
    page.goto(url)
    page.wait_for_function(f"() => window.Bokeh && Bokeh.documents.length && ({SOURCE})('paths') && "
                           f"({SOURCE})('paths').data.xs.length > 0")


def _data(page, name):
    return page.evaluate(f"() => {{ const d = ({SOURCE})('{name}').data; const out = {{}}; "
                         "for (const k of Object.keys(d)) out[k] = Array.from(d[k], v => "
                         "(v && v.length !== undefined && typeof v !== 'string') ? Array.from(v) : v); return out }")


def _paths(page):
    data = _data(page, "paths")
    return {n: np.c_[xs, ys] for n, xs, ys in zip(data["name"], data["xs"], data["ys"])}


def test_server_binds_the_loopback_interface_only(port):
    socket.create_connection(("127.0.0.1", port), timeout=5).close()
    addresses = {info[4][0] for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)}
    for address in addresses - {"127.0.0.1", "127.0.1.1"}:
        with pytest.raises(OSError):
            socket.create_connection((address, port), timeout=2).close()


def test_slider_click_divergence_reload_and_screenshot(page, base_url, tmp_path):
    _open(page, base_url + QUERY)
    first = _paths(page)
    assert list(first) == ["sgd", "adam"] and len(first["sgd"]) == 401

    # Move sgd's learning-rate slider with the keyboard, as a user would: only sgd's path changes.
    handle = page.locator(".lr-sgd .noUi-handle").first
    handle.focus()
    for _ in range(5):
        handle.press("ArrowRight")
    page.wait_for_function(f"() => ({SOURCE})('paths').data.xs.length === 2 && "
                           f"Array.from(({SOURCE})('paths').data.xs[0]).slice(-3).join() !== "
                           f"'{','.join(str(v) for v in first['sgd'][-3:, 0])}'")
    moved = _paths(page)
    assert not np.allclose(moved["sgd"], first["sgd"])
    np.testing.assert_array_equal(moved["adam"], first["adam"])
    default = f"sgd:{landscape.default_lr('rosenbrock', 'sgd'):g},"
    page.wait_for_function("() => new URLSearchParams(window.location.search).get('lr') !== null && "
                           f"!new URLSearchParams(window.location.search).get('lr').includes('{default}')")

    # A large rate: the run diverges and its marker appears on the contour, with a note beside it.
    handle.press("End")  # the slider's top: lr 10
    page.wait_for_function(f"() => ({SOURCE})('diverged').data.name.length === 1")
    assert _data(page, "diverged")["name"] == ["sgd"]
    assert page.get_by_text("sgd diverged at step").first.is_visible()
    handle.press("Home")
    handle.press("PageUp")  # lr ~ 1e-7: far too small to diverge
    page.wait_for_function(f"() => ({SOURCE})('diverged').data.name.length === 0")

    # Click a new start on the contour: every path starts there.
    box = page.locator(".contour-figure").first.bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.62, box["y"] + box["height"] * 0.55)
    page.wait_for_function(f"() => Math.abs(({SOURCE})('start').data.x[0] + 1.2) > 1e-6")
    start = _data(page, "start")
    clicked = (start["x"][0], start["y"][0])
    page.wait_for_function(f"() => Math.abs(({SOURCE})('paths').data.xs[1][0] - {clicked[0]!r}) < 1e-9")
    state_before = _paths(page)
    assert np.allclose(state_before["adam"][0], clicked)

    # Reload from the URL: the same function, optimizers, rates and start, so the same paths.
    page.wait_for_function("(x) => new URLSearchParams(window.location.search).get('start') !== null && "
                           "Math.abs(parseFloat(new URLSearchParams(window.location.search).get('start')) - x) < 1e-4",
                           arg=clicked[0])
    url = page.url
    query = parse_qs(urlparse(url).query)
    assert query["function"] == ["rosenbrock"] and query["optimizers"] == ["sgd,adam"]
    _open(page, url)
    reloaded = _paths(page)
    assert list(reloaded) == ["sgd", "adam"]
    for name in reloaded:
        np.testing.assert_allclose(reloaded[name], state_before[name], rtol=1e-4, atol=1e-5)
    start = _data(page, "start")
    assert abs(start["x"][0] - clicked[0]) < 1e-5 and abs(start["y"][0] - clicked[1]) < 1e-5

    # A screenshot that is not blank: the landscape's shades and the coloured paths.
    shot = tmp_path / "dashboard.png"
    page.screenshot(path=str(shot))
    from PIL import Image
    image = np.asarray(Image.open(shot).convert("RGB"), dtype=float)
    assert image.std() > 20 and len(np.unique(image.reshape(-1, 3), axis=0)) > 200


def test_malformed_url_is_clamped_with_a_message_in_the_page(page, base_url):
    _open(page, base_url + "?function=nope&optimizers=adam,zzz&lr=adam:1e99&start=abc&steps=-5")
    for text in ("function: unknown 'nope'; using rosenbrock", "lr of adam: 1e+99 is outside [1e-08, 10]; using 10",
                 "steps: -5 is outside [1, 20000]; using 1", "optimizers: unknown 'zzz'; ignored"):
        page.get_by_text(text).first.wait_for(state="visible")
    assert _data(page, "paths")["name"] == ["adam"]
    page.wait_for_function("() => new URLSearchParams(window.location.search).get('lr') === 'adam:10'")
