"""The docs site, end to end: build it from `nbs/` and open it in headless Chromium.

`rxt docs` renders the notebooks with nbconvert (Quarto cannot be installed here, see
`nbs/95_docs.ipynb`). These tests build the real site into a temporary folder, check its files,
links and API page, then load the index and a notebook page that holds a figure in Chromium
(Debian's `chromium` package) and check that they render, figure and formulas included. A missing Chromium is
a failure, not a skip: install it with `apt-get install -y chromium`.
"""
import ast, json, re, shutil, subprocess
from pathlib import Path

import pytest
from PIL import Image

from rxt.app.docs import broken_links, build_site, read_notebooks

ROOT = Path(__file__).resolve().parents[1]
INSTALL = "apt-get update && apt-get install -y chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--hide-scrollbars", "--virtual-time-budget=5000"]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("docs") / "_site"
    build_site(ROOT / "nbs", out, use_quarto=False)  # no time limit here: speed lives in benchmarks, not tests
    return out


def chromium(tmp_path, *args) -> subprocess.CompletedProcess:
    "Run headless Chromium with a throw-away profile; fail (not skip) if it is not installed."
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None: pytest.fail(f"chromium is not installed; the docs-site test needs it: run `{INSTALL}` (Debian's package, ~20 s)")
    r = subprocess.run([exe, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", *args], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, f"chromium failed ({r.returncode}): {r.stderr[-2000:]}"
    return r


def dom(tmp_path, page: Path) -> str:
    "The page's DOM after load, as Chromium built it (its scripts have run)."
    return chromium(tmp_path, "--dump-dom", page.as_uri()).stdout


def screenshot(tmp_path, page: Path, size=(1200, 2000)) -> Image.Image:
    png = tmp_path / f"{page.stem}.png"
    chromium(tmp_path, f"--screenshot={png}", f"--window-size={size[0]},{size[1]}", page.as_uri())
    return Image.open(png).convert("RGB")


def ink(img: Image.Image) -> float:
    "Fraction of pixels that are not (nearly) white."
    g = img.convert("L")
    return sum(n for v, n in enumerate(g.histogram()) if v < 235) / (g.width * g.height)


def figure_pages(site: Path) -> list[Path]:
    "Pages holding a figure stored as a cell output, in notebook order."
    pages = [site / p["page"] for p in read_notebooks(ROOT / "nbs")]
    return [p for p in pages if p.exists() and re.search(r'<div class="output_(png|jpeg|svg)', p.read_text())]


def test_site_has_a_page_per_notebook_and_no_broken_link(site):
    pages = [p for p in read_notebooks(ROOT / "nbs") if p["path"].name != "index.ipynb"]
    assert len(pages) >= 15
    for p in pages: assert (site / p["page"]).is_file(), f"no page for {p['path'].name}"
    assert (site / "index.html").is_file() and (site / "api.html").is_file() and (site / "style.css").is_file()
    assert broken_links(site) == []
    assert not any("://" in m for f in site.glob("*.html") for m in re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', f.read_text())), \
        "pages must not load scripts or styles from the network"


def test_api_page_lists_every_exported_name(site):
    api = (site / "api.html").read_text()
    n = 0
    for path in sorted((ROOT / "rxt").rglob("*.py")):
        mod = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        tree = ast.parse(path.read_text())
        names = next((ast.literal_eval(n.value) for n in tree.body if isinstance(n, ast.Assign)
                      and getattr(n.targets[0], "id", "") == "__all__"), [])
        for name in names: assert f'id="{mod}.{name}"' in api, f"api.html lacks {mod}.{name}"
        n += len(names)
    assert n > 100, f"only {n} exported names found under rxt/: is the package layout what this test expects?"
    assert 'id="rxt.app.docs.build_site"' in api and "(nbs: str | Path = &#x27;nbs&#x27;" in api


def test_index_renders_in_chromium(site, tmp_path):
    d = dom(tmp_path, site / "index.html")
    assert "<h1>rxt</h1>" in d and re.search(r'<body data-images="(\d+)/\1"', d), "index did not finish loading"
    n = len(read_notebooks(ROOT / "nbs")) - 1
    assert len(re.findall(r'<section class="toc">.*?</section>', d, re.S)) == 1
    assert len(re.findall(r"<li><a href=\"[^\"]+\.html\">", d.split('<section class="toc">')[1])) == n
    img = screenshot(tmp_path, site / "index.html")
    assert img.size == (1200, 2000) and ink(img) > 0.02, "the index screenshot is blank"


def test_notebook_page_renders_with_its_figure_in_chromium(site, tmp_path):
    pages = figure_pages(site)
    assert pages, "no notebook page holds a figure output (95_docs.ipynb keeps one: re-run it if its outputs were cleared)"
    page = pages[0]
    d = dom(tmp_path, page)
    m = re.search(r'<body data-images="(\d+)/(\d+)"', d)
    assert m, f"{page.name}: the load check did not run"
    assert int(m[2]) >= 1 and m[1] == m[2], f"{page.name}: only {m[1]} of {m[2]} images loaded"
    assert "broken" not in re.findall(r'<img[^>]*class="([^"]*)"', d)
    assert ink(screenshot(tmp_path, page)) > 0.02, f"the {page.name} screenshot is blank"
    # the figure itself, on screen: the same page with everything but the figure hidden
    probe = page.with_name("_probe.html")
    probe.write_text(page.read_text().replace("</head>", "<style>.sidebar,.topnav,.page-header,.pager,"
                     ".cell:not(:has(.output_png,.output_jpeg,.output_svg)){display:none}</style></head>"))
    fig = screenshot(tmp_path, probe, (1200, 900))
    colours = len(fig.resize((300, 225)).getcolors(maxcolors=300 * 225))
    assert ink(fig) > 0.01 and colours > 20, f"{page.name}: the figure did not render (ink {ink(fig):.3f}, {colours} colours)"
    fig.save(tmp_path / "figure.png")


def test_memory_page_shows_its_formulas_as_mathml_in_chromium(site, tmp_path):
    "The Memory notebook writes its update rule in LaTeX; the browser must get MathML, not the raw TeX."
    page = site / "memory.html"
    src = json.loads((ROOT / "nbs" / "04_memory.ipynb").read_text())
    n_tex = sum(("".join(c["source"]) if isinstance(c["source"], list) else c["source"]).count("\\mathrm")
                for c in src["cells"] if c["cell_type"] == "markdown")
    assert n_tex >= 3, "04_memory.ipynb no longer writes \\mathrm formulas: pick another page for this test"
    d = dom(tmp_path, page)
    prose = re.sub(r"(?s)<(pre|code|script|style)\b.*?</\1>", "", d)  # TeX may stand as written inside code
    assert len(re.findall(r"<math\b", d)) >= 10, "the Memory page has (almost) no <math> element"
    assert "\\mathrm" not in prose and "$$" not in prose, "raw TeX is left on the Memory page: " + \
        prose[max(0, prose.find("\\mathrm") - 80):prose.find("\\mathrm") + 80]
    assert 'class="tex"' not in d, "a formula on the Memory page did not convert"
    # drawn, not just present: MathML elements have a layout box in Chromium
    probe = page.with_name("_math_probe.html")
    probe.write_text(page.read_text().replace("</body>", "<script>addEventListener('load',()=>{const m=[...document.querySelectorAll('math')];"
                     "document.body.dataset.math=m.filter(e=>e.getBoundingClientRect().width>0).length+'/'+m.length})</script></body>"))
    m = re.search(r'data-math="(\d+)/(\d+)"', dom(tmp_path, probe))
    assert m and int(m[2]) >= 10 and m[1] == m[2], f"only {m and m[1]} of {m and m[2]} formulas have a layout box"


def test_cli_reports_a_missing_notebook_folder(tmp_path, capsys):
    from rxt.app.cli import main
    assert main(["docs", "--nbs", str(tmp_path / "nope"), "--out", str(tmp_path / "site")]) == 2
    assert "notebook folder" in capsys.readouterr().err
