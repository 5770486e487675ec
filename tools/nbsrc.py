"""Author notebooks as plain text and pack them into `.ipynb` (and back).

The notebooks in `nbs/` are the source of truth. This tool only makes them easy to write and
review from an editor or a terminal: `unpack` turns a notebook into a percent-format text file,
`pack` turns such a file back into a notebook with stable cell ids.

Format: a line `# %%` starts a code cell, `# %% [md]` a markdown cell (its lines are written as
they are, not commented), and `# %% tags=parameters` a code cell tagged for papermill.

    python tools/nbsrc.py unpack nbs/02_attention.ipynb > /tmp/02.py
    python tools/nbsrc.py pack /tmp/02.py nbs/02_attention.ipynb
"""
import hashlib, json, sys
from pathlib import Path

def _cell(kind, lines, tags, idx, stem):
    src = "\n".join(lines).strip("\n")
    cid = hashlib.sha1(f"{stem}:{idx}".encode()).hexdigest()[:8]
    meta = {"tags": tags} if tags else {}
    if kind == "md": return {"cell_type": "markdown", "id": cid, "metadata": meta, "source": src}
    return {"cell_type": "code", "execution_count": None, "id": cid, "metadata": meta, "outputs": [], "source": src}

def pack(text: str, stem: str) -> dict:
    "Parse percent-format `text` into a notebook dict."
    cells, kind, tags, buf = [], None, [], []
    for line in text.splitlines():
        if line.startswith("# %%"):
            if kind is not None: cells.append(_cell(kind, buf, tags, len(cells), stem))
            rest = line[4:].strip()
            kind = "md" if rest.startswith("[md]") else "code"
            tags = [t for t in rest.split("tags=", 1)[1].split(",")] if "tags=" in rest else []
            buf = []
        elif kind is not None: buf.append(line)
    if kind is not None: cells.append(_cell(kind, buf, tags, len(cells), stem))
    cells = [c for c in cells if c["source"].strip()]
    return {"cells": cells, "metadata": {"kernelspec": {"display_name": "python3", "language": "python", "name": "python3"}},
            "nbformat": 4, "nbformat_minor": 5}

def unpack(nb: dict) -> str:
    "Write a notebook dict as percent-format text (outputs are dropped)."
    out = []
    for c in nb["cells"]:
        src = c["source"] if isinstance(c["source"], str) else "".join(c["source"])
        tags = c.get("metadata", {}).get("tags", [])
        head = "# %% [md]" if c["cell_type"] == "markdown" else "# %%"
        if tags: head += " tags=" + ",".join(tags)
        out += [head, src, ""]
    return "\n".join(out)

if __name__ == "__main__":
    cmd, *args = sys.argv[1:]
    if cmd == "pack":
        src, dst = map(Path, args)
        nb = pack(src.read_text(), Path(dst).stem)
        dst.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
    elif cmd == "unpack":
        sys.stdout.write(unpack(json.loads(Path(args[0]).read_text())))
    else: raise SystemExit(__doc__)
