"""MkDocs hook: the site's home page is the project's README.md.

The README is what a visitor of the repository reads first; the site shows the same
text, so it is written once. Its links into ``docs/`` become links within the site.
"""

from pathlib import Path


def on_page_markdown(markdown, page, config, **kwargs):
    if page.file.src_uri != "index.md":
        return markdown
    readme = Path(config.config_file_path).with_name("README.md").read_text()
    return readme.replace("](docs/", "](")
