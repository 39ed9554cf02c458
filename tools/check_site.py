"""Open the built site in headless Chromium as a student would, and check what they would see.

    python tools/check_site.py docs/_build/html [--out docs/_build/site_check]

A guide page, a tutorial and an API page are served from 127.0.0.1 and opened in Debian's chromium through
Playwright (its own browser download is not used; FASTOPT_CHROMIUM overrides the path).  On each: MathJax
has rendered every equation (one MathJax container per Sphinx math element, and no raw TeX such as ``$$``
or ``\\frac`` left in the text outside code), every image has loaded (naturalWidth > 0), no request failed,
and the code blocks are highlighted.  Screenshots of the top of each page and of its first equation and
figure are saved under --out.  Exits 0 with a note when Playwright or Chromium is missing.
"""
import argparse
import functools
import http.server
import os
import shutil
import sys
import threading
from pathlib import Path

TIMEOUT_MS = 60000
RAW_TEX = ("$$", "\\frac", "\\begin{", "\\(", "\\[", "\\theta", "\\nabla")

# What the page shows, outside code: text nodes not inside pre/code/script/style or MathJax's own output.
VISIBLE_TEXT = """() => {
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const parts = [];
  while (walker.nextNode()) {
    const node = walker.currentNode;
    if (node.parentElement.closest('pre, code, script, style, mjx-container, mjx-assistive-mml')) continue;
    parts.push(node.textContent);
  }
  return parts.join(' ');
}"""
PAGE_FACTS = """() => ({
  math: document.querySelectorAll('div.math, span.math').length,
  rendered: document.querySelectorAll('mjx-container').length,
  mathjaxErrors: document.querySelectorAll('mjx-merror').length,
  images: Array.from(document.images).map(i => ({src: i.getAttribute('src'), ok: i.complete && i.naturalWidth > 0})),
  code: document.querySelectorAll('div.highlight pre').length,
  highlighted: document.querySelectorAll('div.highlight pre span').length,
})"""


def pick_pages(root: Path) -> dict:
    """A guide page (the first with equations, else the guide's index), a tutorial with figures and math,
    and an optimizer's API page."""
    guides = sorted(p for p in (root / "guide").glob("*.html") if p.name != "index.html")
    with_math = [p for p in guides if 'class="math' in p.read_text(errors="replace")]
    guide = (with_math or guides or [root / "guide" / "index.html"])[0]
    return {"guide": guide, "tutorial": root / "tutorials" / "adam_vs_rmsprop.html",
            "api": root / "api" / "generated" / "fastopt.Adam.html"}


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def serve(root: Path):
    handler = functools.partial(QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def check_page(browser, url: str, name: str, out: Path) -> list:
    """Problems seen on one page (empty: fine); saves its screenshots."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(TIMEOUT_MS)
    failed = []
    page.on("requestfailed", lambda request: failed.append(request.url))
    page.goto(url, wait_until="load")
    page.wait_for_function("() => !document.querySelector('div.math, span.math') || "
                           "(window.MathJax && MathJax.startup && MathJax.startup.promise)")
    page.evaluate("() => window.MathJax && MathJax.startup ? MathJax.startup.promise : null")
    facts = page.evaluate(PAGE_FACTS)
    text = page.evaluate(VISIBLE_TEXT)
    problems = [f"{name}: request failed: {u}" for u in failed]
    if facts["math"] and facts["rendered"] < facts["math"]:
        problems.append(f"{name}: {facts['rendered']} of {facts['math']} equations rendered by MathJax")
    if facts["mathjaxErrors"]:
        problems.append(f"{name}: {facts['mathjaxErrors']} MathJax errors")
    problems += [f"{name}: raw TeX {tex!r} left in the text" for tex in RAW_TEX if tex in text]
    problems += [f"{name}: image not loaded: {image['src']}" for image in facts["images"] if not image["ok"]]
    if facts["code"] and not facts["highlighted"]:
        problems.append(f"{name}: code blocks without highlighting")
    page.screenshot(path=str(out / f"{name}_top.png"))
    for what, selector in (("math", "mjx-container[display='true'], mjx-container"), ("figure", "article img")):
        element = page.query_selector(selector)
        if element:
            element.scroll_into_view_if_needed()
            page.evaluate("() => window.scrollBy(0, -150)")
            page.screenshot(path=str(out / f"{name}_{what}.png"))
    print(f"{name}: {url.rsplit('/', 1)[-1]}: {facts['rendered']}/{facts['math']} equations rendered, "
          f"{sum(i['ok'] for i in facts['images'])}/{len(facts['images'])} images loaded, "
          f"{facts['code']} code blocks")
    page.close()
    return problems


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", nargs="?", default="docs/_build/html", type=Path)
    parser.add_argument("--out", type=Path, default=Path("docs/_build/site_check"))
    args = parser.parse_args(argv)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        print("check_site: skipped (playwright is not installed: pip install playwright)")
        return 0
    chromium = os.environ.get("FASTOPT_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        print("check_site: skipped (no chromium: apt-get install -y chromium, or set FASTOPT_CHROMIUM)")
        return 0
    pages = pick_pages(args.root)
    missing = [str(path) for path in pages.values() if not path.exists()]
    if missing:
        print("check_site: pages missing (build the site first): " + ", ".join(missing))
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    server = serve(args.root)
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    problems = []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
            for name, path in pages.items():
                problems += check_page(browser, base + path.relative_to(args.root).as_posix(), name, args.out)
            browser.close()
    finally:
        server.shutdown()
    for problem in problems:
        print(problem)
    print(f"check_site: {len(pages)} pages, {len(problems)} problems; screenshots in {args.out}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
