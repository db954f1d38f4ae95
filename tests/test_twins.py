"""The async and sync consumers are two spellings of one implementation, and stay so.

Each consumer module exists once per consumer style (the ``consumers`` option's variant
files, in the post-generation hook's VARIANTS). Two bakes that differ in that option alone
must have, module by module: the same classes, the same methods (handlers), the same
references to the project's own code in the same order within each method (the frames
built and sent, the data read and written, the presence kept), and the same settings read.
``await``, ``database_sync_to_async`` and ``async_to_sync`` are what may differ.
"""

import ast

import pytest

from tests.support.options import CHOICE_OPTIONS, DEFAULTS, POST_GEN

OPTION = "consumers"
# Where the styles differ by design, and why: the async consumer skips Channels' trip to
# the database thread before each message (``dispatch``), the sync one needs it, as its
# handlers run in that thread; the async consumer sends its own messages at once, the
# sync one queues them all, as that thread must never wait for a client (``__call__``).
BY_DESIGN = {"{slug}/realtime/consumers.py": {"FrameConsumer.__call__", "FrameConsumer.dispatch"}}


class Shape(ast.NodeVisitor):
    """What a consumer module does, independent of its style."""

    def __init__(self, own_package):
        self.own_package = own_package
        self.own_names = set()  # names bound by `from <own package>... import ...`
        self.classes = {}  # class -> [method names]
        self.references = {}  # "Class.method" -> [dotted references to own code]
        self.settings = {}  # "Class.method" (or "module") -> {setting names}
        self.where = "module"

    def visit_ImportFrom(self, node):
        if (node.module or "").split(".")[0] == self.own_package:
            self.own_names |= {alias.asname or alias.name for alias in node.names}

    def visit_ClassDef(self, node):
        methods = [n for n in node.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
        self.classes[node.name] = [method.name for method in methods]
        for method in methods:
            self.where = f"{node.name}.{method.name}"
            self.references[self.where] = []
            self.generic_visit(method)
        self.where = "module"

    def visit_Attribute(self, node):
        dotted = dotted_name(node)
        if dotted and dotted.startswith("settings."):
            self.settings.setdefault(self.where, set()).add(dotted.split(".")[1])
        elif dotted and dotted.split(".")[0] in self.own_names and self.where != "module":
            self.references[self.where].append(dotted)
            return  # not its parts again
        self.generic_visit(node)

    def visit_Name(self, node):
        if node.id in self.own_names and self.where != "module":
            self.references[self.where].append(node.id)


def dotted_name(node):
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        return ".".join([node.id, *reversed(parts)])
    return None


def shape(path, own_package, by_design):
    found = Shape(own_package)
    found.visit(ast.parse(path.read_text()))
    for where in by_design:
        found.references.pop(where, None)
        found.settings.pop(where, None)
    return found


@pytest.fixture(scope="module")
def twins(bakery):
    """The default bake, and for each other consumer style the bake that differs from
    it in that option only."""
    _, *others = CHOICE_OPTIONS[OPTION]
    return [(bakery(DEFAULTS), bakery(DEFAULTS | {OPTION: other})) for other in others]


@pytest.mark.parametrize("module", POST_GEN.VARIANTS[OPTION])
def test_the_consumer_styles_do_the_same(twins, module):
    for one, other in twins:
        assert one.path and other.path, "a bake failed: see its 'baked' test"
        slug = one.path.name
        path = module.format(slug=slug)
        by_design = BY_DESIGN.get(module, set())
        a = shape(one.path / path, slug, by_design)
        b = shape(other.path / path, slug, by_design)
        pair = f"{path}: {one.combination[OPTION]} and {other.combination[OPTION]}"
        assert a.classes == b.classes, f"{pair} differ in classes or handlers"
        for where in a.references:
            assert a.references[where] == b.references[where], f"{pair} differ in {where}"
        assert a.settings == b.settings, f"{pair} read different settings"
