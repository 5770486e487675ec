"Repository hygiene: the notebook-first layout stays small, clean and consistent."
import json, os, re, shutil, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_notebooks_are_small():
    big = [p.name for p in (ROOT / "nbs").glob("*.ipynb") if p.stat().st_size > 1_000_000]
    assert not big, f"notebooks over 1 MB (keep outputs small): {big}"


def test_notebooks_have_title_and_summary():
    for p in sorted((ROOT / "nbs").glob("[0-9]*.ipynb")):
        cells = json.loads(p.read_text())["cells"]
        first = cells[0]["source"] if isinstance(cells[0]["source"], str) else "".join(cells[0]["source"])
        assert first.startswith("# ") and "\n> " in first, f"{p.name}: cell 1 must be '# Title' then '> summary'"


def test_no_export_cell_in_stage_notebooks():
    for p in sorted((ROOT / "nbs").glob("2*.ipynb")):
        assert "nbdev_export()" not in p.read_text(), f"{p.name} calls nbdev_export(): papermill would rewrite rxt/ mid-run"


def readme_test_command(readme: str) -> str:
    "The bash block after `<!-- test-command -->` in a README, read here with Python (not with .ci/run's awk)."
    block = readme.split("<!-- test-command -->", 1)[1]
    return re.search(r"```bash\n(.*?)```", block, re.S).group(1).strip()


def ci_awk() -> str:
    "The awk program .ci/run uses to read the test command from README.md."
    m = re.search(r"test_cmd=\$\((awk .*?) README\.md\)", (ROOT / ".ci/run").read_text())
    assert m, ".ci/run no longer reads its test command with awk from README.md; update this test"
    return m.group(1)


def test_ci_reads_the_readme_test_command(tmp_path):
    "Run .ci/run's own extraction on the README: it must give the command in the README's test-command block."
    cmd = subprocess.run(["bash", "-c", f"{ci_awk()} README.md"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
    assert cmd == readme_test_command((ROOT / "README.md").read_text()) and "pytest" in cmd
    (tmp_path / "README.md").write_text("# x\n\n```bash\necho not-the-test-command\n```\n")  # no marker: nothing
    assert subprocess.run(["bash", "-c", f"{ci_awk()} README.md"], cwd=tmp_path, capture_output=True, text=True).stdout == ""


def _ci_tree(tmp_path: Path) -> Path:
    "A one-notebook copy of the project (nbs/00a_timing, exported and clean) under git, with .ci/run and a README whose test command leaves a mark."
    repo = tmp_path / "repo"
    (repo / "nbs").mkdir(parents=True); (repo / ".ci").mkdir()
    for f in ("pyproject.toml", ".gitignore", ".ci/run"): shutil.copy2(ROOT / f, repo / f)
    shutil.copy2(ROOT / "nbs" / "00a_timing.ipynb", repo / "nbs")
    (repo / "README.md").write_text("# demo\n\n<!-- test-command -->\n```bash\ntouch tests-ran\n```\n")
    (repo / ".venv").symlink_to(Path(sys.prefix))  # .ci/run calls .venv/bin/nbdev-clean and nbdev-export
    bin_ = tmp_path / "bin"; bin_.mkdir(); (bin_ / "chromium").write_text("#!/bin/sh\n"); (bin_ / "chromium").chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_}{os.pathsep}{os.environ['PATH']}"}
    for c in (["git", "init", "-q"], [".venv/bin/nbdev-clean"], [".venv/bin/nbdev-export"], ["git", "add", "-A"],
              ["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "init"]):
        subprocess.run(c, cwd=repo, env=env, check=True, capture_output=True)
    assert (repo / "rxt" / "timing.py").is_file()
    return repo, env


def test_ci_runs_the_test_command_on_a_clean_tree_and_refuses_a_stale_export(tmp_path):
    repo, env = _ci_tree(tmp_path)
    ok = subprocess.run(["bash", ".ci/run"], cwd=repo, env=env, capture_output=True, text=True, timeout=300)
    assert ok.returncode == 0 and (repo / "tests-ran").exists(), ok.stdout + ok.stderr
    (repo / "tests-ran").unlink()
    with open(repo / "rxt" / "timing.py", "a") as f: f.write("\nHAND_EDIT = 1  # not in the notebook\n")
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qam", "edit rxt by hand"], cwd=repo, check=True)
    bad = subprocess.run(["bash", ".ci/run"], cwd=repo, env=env, capture_output=True, text=True, timeout=300)
    assert bad.returncode == 1 and "rxt/timing.py" in bad.stdout and "not what the notebooks export" in bad.stdout, bad.stdout + bad.stderr
    assert not (repo / "tests-ran").exists(), ".ci/run ran the tests on a tree whose rxt/ is not what the notebooks export"


def test_imports_point_downward():
    r = subprocess.run([sys.executable, "tools/imports.py"], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0 and "0 cycles, 0 upward imports" in r.stdout, r.stdout + r.stderr


def test_import_check_finds_an_upward_import_and_a_cycle(tmp_path):
    "tools/imports.py on a small package with one upward import (nn -> app) and one cycle (data.a <-> data.b)."
    files = {"__init__.py": "", "nn/__init__.py": "", "nn/model.py": "def f():\n    from ..app.util import g  # lazy, still upward\n",
             "app/__init__.py": "", "app/util.py": "g = 1\n", "app/cli.py": "from rxt.nn.model import f\n",
             "data/__init__.py": "", "data/a.py": "from rxt.data import b\n", "data/b.py": "from . import a\n"}
    for name, text in files.items():
        (tmp_path / "rxt" / name).parent.mkdir(parents=True, exist_ok=True); (tmp_path / "rxt" / name).write_text(text)
    r = subprocess.run([sys.executable, str(ROOT / "tools/imports.py"), str(tmp_path / "rxt")], capture_output=True, text=True)
    assert r.returncode == 1, r.stdout + r.stderr
    lines = r.stdout.splitlines()
    assert "upward import: rxt.nn.model (layer nn) imports rxt.app.util (layer app)" in lines
    assert any(l.startswith("import cycle: rxt.data.a -> rxt.data.b -> rxt.data.a") for l in lines), lines
    assert len(lines) == 2, f"the downward import app.cli -> nn.model must not be reported: {lines}"
    (tmp_path / "rxt" / "nn" / "model.py").write_text("def f(): pass\n"); (tmp_path / "rxt" / "data" / "b.py").write_text("")
    r = subprocess.run([sys.executable, str(ROOT / "tools/imports.py"), str(tmp_path / "rxt")], capture_output=True, text=True)
    assert r.returncode == 0 and "0 cycles, 0 upward imports" in r.stdout


def test_every_module_is_at_most_300_lines():
    "Modules stay readable: split along the notebook's own sections when one grows past 300 lines (rxt/_modidx.py is nbdev's index)."
    root = ROOT / "rxt"
    long = {str(p.relative_to(root)): n for p in root.rglob("*.py") if p.name != "_modidx.py"
            and (n := len(p.read_text(encoding="utf-8").splitlines())) > 300}
    assert not long, f"modules over 300 lines: {long}"


def test_no_method_is_attached_by_assignment_after_its_class():
    "Methods live in their class, or are added with fastcore's `@patch`, never as `Cls.name = fn` after it."
    pat = re.compile(r"^[A-Z]\w*\.\w+(, [A-Z]\w*\.\w+)* = ", re.M)
    found = {str(p.relative_to(ROOT)): m.group(0) for p in (ROOT / "rxt").rglob("*.py") if (m := pat.search(p.read_text(encoding="utf-8")))}
    assert not found, f"methods attached by assignment: {found}; define them in the class or decorate them with @patch"


def test_every_third_party_import_is_a_declared_dependency():
    "A module-level import of a package that pyproject.toml does not declare breaks `pip install rxt` without the dev extra (it did: fastcore)."
    import ast, tomllib
    from importlib.metadata import packages_distributions
    norm = lambda s: re.sub(r"[-_.]+", "-", s).lower()
    proj = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = {norm(re.split(r"[<>=!~\[ ;]", d, 1)[0]) for d in proj["dependencies"]}
    extras = {norm(re.split(r"[<>=!~\[ ;]", d, 1)[0]) for ds in proj["optional-dependencies"].values() for d in ds}
    dists = packages_distributions()
    missing, optional_at_top = set(), set()
    for path in (ROOT / "rxt").rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in tree.body:  # module level: what `import rxt...` needs
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module] if isinstance(node, ast.ImportFrom) and not node.level else []
            for name in names:
                top = name.split(".")[0]
                if top in sys.stdlib_module_names or top == "rxt": continue
                ds = {norm(d) for d in dists.get(top, [top])}
                if not ds & declared: (optional_at_top if ds & extras else missing).add(f"{path.relative_to(ROOT)}: {top}")
    assert not missing, f"imported at module level but not in [project] dependencies: {sorted(missing)}"
    assert not optional_at_top, f"an optional extra imported at module level (import it lazily): {sorted(optional_at_top)}"
