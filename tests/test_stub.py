"""The type stub python/fastopt/_core.pyi names exactly what the native module has, so it cannot drift."""
import ast
from pathlib import Path

import fastopt
from fastopt import _core

STUB = ast.parse((Path(fastopt.__file__).parent / "_core.pyi").read_text())


def stub_names(body) -> dict:
    """name -> node of the functions, classes and annotated attributes defined in a stub body."""
    out = {}
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            out[node.name] = node
        elif isinstance(node, ast.AnnAssign):
            out[node.target.id] = node
    return {name: node for name, node in out.items() if not name.startswith("_")}


def public(obj) -> set:
    return {n for n in dir(obj) if not n.startswith("_")}


def test_stub_matches_the_module():
    top = stub_names(STUB.body)
    assert set(top) == public(_core)
    for area in ("optim", "landscape", "nn", "curvature", "kfac", "shampoo", "matrix_optim", "precision"):
        members = stub_names(top[area].body)
        assert set(members) == public(getattr(_core, area)), area
        for name, node in members.items():
            if isinstance(node, ast.ClassDef):  # the native classes: their methods and properties
                assert class_names(node, members) == public(getattr(getattr(_core, area), name)), name


def class_names(node: ast.ClassDef, siblings: dict) -> set:
    """A stub class's public names, with those it inherits from stub classes beside it."""
    names = set(stub_names(node.body))
    for base in node.bases:
        if isinstance(base, ast.Name) and base.id in siblings:
            names |= class_names(siblings[base.id], siblings)
    return names
