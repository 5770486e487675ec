"""Check that imports inside the `rxt` package point downward: no cycle, no import of a higher layer.

    python tools/imports.py            # checks rxt/; exits 1 on a cycle or an upward import
    python tools/imports.py PKG_DIR    # checks another package laid out in the same layers (the tests use one)
"""
import ast, sys
from pathlib import Path

# The package's layers, lowest first; a module may import its own layer or a lower one.
LAYERS = ["timing", "nn", "data", "infer", "train", "eval", "app"]

def module_name(path: Path, root: Path) -> str:
    return ".".join(path.relative_to(root.parent).with_suffix("").parts).removesuffix(".__init__")

def imports(path: Path, root: Path, modules: set[str] = frozenset()) -> set[str]:
    "The modules of the package `root` that `path` imports, at any depth of the file (lazy imports included)."
    mod, out = module_name(path, root), set()
    pkg = mod.split(".")[:-1] if path.name != "__init__.py" else mod.split(".")
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level: base = ".".join(pkg[: len(pkg) - node.level + 1] + ([base] if base else []))
            if base.split(".")[0] != root.name: continue
            for a in node.names:  # `from pkg import mod` imports the module pkg.mod, not only pkg
                out.add(f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base)
        elif isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.split(".")[0] == root.name}
    return out - {mod}

def layer(mod: str) -> int:
    parts = mod.split(".")
    return LAYERS.index(parts[1]) if len(parts) > 1 and parts[1] in LAYERS else -1

def check(root: Path) -> list[str]:
    files = [p for p in root.rglob("*.py") if p.name != "_modidx.py"]
    modules = {module_name(p, root) for p in files}
    graph = {module_name(p, root): imports(p, root, modules) for p in files}
    errors = [f"upward import: {m} (layer {LAYERS[layer(m)]}) imports {d} (layer {LAYERS[layer(d)]})"
              for m, deps in graph.items() for d in deps if layer(m) >= 0 and layer(d) > layer(m)]
    state: dict[str, int] = {}
    def visit(m, stack):
        state[m] = 1
        for d in sorted(graph.get(m, ())):
            if state.get(d) == 1: errors.append("import cycle: " + " -> ".join(stack[stack.index(d):] + [d]))
            elif d in graph and not state.get(d): visit(d, stack + [d])
        state[m] = 2
    for m in sorted(graph):
        if not state.get(m): visit(m, [m])
    return errors

if __name__ == "__main__":
    errs = check(Path(sys.argv[1]).resolve() if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent / "rxt")
    print("\n".join(errs) or "imports point downward: 0 cycles, 0 upward imports")
    sys.exit(1 if errs else 0)
