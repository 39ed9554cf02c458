"""Check the internal links of the built site: every relative href/src of every page points at a file that
exists, and every #fragment at an id on the target page.  External links (http:, https:, mailto:) are not
fetched: the build and its checks run offline.

    python tools/check_links.py docs/_build/html
"""
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlparse

LINK_ATTRIBUTES = {"a": "href", "link": "href", "img": "src", "script": "src", "source": "src"}


class PageLinks(HTMLParser):
    """The ids of a page and its (tag, link) pairs."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids, self.links = set(), []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        for key in ("id", "name"):
            if attributes.get(key):
                self.ids.add(attributes[key])
        link = attributes.get(LINK_ATTRIBUTES.get(tag, ""))
        if link:
            self.links.append((tag, link))


def parse(path: Path) -> PageLinks:
    parser = PageLinks()
    parser.feed(path.read_text(encoding="utf-8", errors="replace"))
    return parser


def broken_links(root: Path) -> list:
    """'page: link (why)' for every internal link that does not resolve."""
    pages = {path.resolve(): parse(path) for path in root.rglob("*.html")}
    problems = []
    for page, parsed in sorted(pages.items()):
        for tag, link in parsed.links:
            if urlparse(link).scheme or link.startswith("//"):
                continue  # external (or data:, mailto:): not fetched offline
            target, fragment = urldefrag(link)
            target = urlparse(target).path  # without ?v=... cache busters
            path = (page.parent / unquote(target)).resolve() if target else page
            if path.is_dir():
                path = path / "index.html"
            where = f"{page.relative_to(root.resolve())}: {link}"
            if not path.exists():
                problems.append(f"{where} (no such file)")
            elif fragment and path.suffix == ".html" and unquote(fragment) not in pages[path].ids:
                problems.append(f"{where} (no id {fragment!r} there)")
    return problems


def main(argv=None) -> int:
    root = Path((argv or sys.argv[1:] or ["docs/_build/html"])[0])
    if not (root / "index.html").exists():
        print(f"{root}: no index.html (build the site first)", file=sys.stderr)
        return 2
    problems = broken_links(root)
    for problem in problems:
        print(problem)
    count = sum(len(parse(p).links) for p in root.rglob("*.html"))
    print(f"{len(list(root.rglob('*.html')))} pages, {count} links, {len(problems)} broken")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
