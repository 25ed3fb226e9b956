#!/usr/bin/python3
"""An SVG of a tools/headline-bench.sh run: per dataset, ours / FAISS QPS ratio of every row,
batched and one query per call, as bars (the ratio of the medians) with whiskers from lowest
ours / highest FAISS to highest ours / lowest FAISS; a line at 1x.

    python3 tools/headline_chart.py OUTDIR > OUTDIR/ratios.svg
"""
import glob
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from headline_table import order, rows  # noqa: E402

out_dir = sys.argv[1]
panels = []
for ours_path in sorted(glob.glob(os.path.join(out_dir, "codebook-*.jsonl"))):
    dataset = os.path.basename(ours_path)[len("codebook-"):-len(".jsonl")]
    faiss_path = os.path.join(out_dir, f"faiss-{dataset}.jsonl")
    if not os.path.exists(faiss_path):
        continue
    ours, faiss = rows(ours_path), rows(faiss_path)
    bars = []
    for key in sorted(ours, key=order):
        if key not in faiss:
            continue
        a, b = ours[key][-1], faiss[key][-1]
        p = dict(x.split("=") for x in key[1].split(","))
        label = f"{key[0]} np{p['nprobe']}" + (f" rr{p['rerank']}" if p["rerank"] != "1" else "")
        r = []
        for f in ("qps", "qps_1q"):
            if a.get(f) and b.get(f):
                r.append((a[f] / b[f], a.get(f + "_min", a[f]) / b.get(f + "_max", b[f]),
                          a.get(f + "_max", a[f]) / b.get(f + "_min", b[f])))
            else:
                r.append(None)
        bars.append((label, r))
    panels.append((dataset, bars))

row_h, left, width, top = 18, 230, 440, 54
# the axis spans the medians (whiskers past it are cut at its edge)
top_ratio = max([x[0] for _, bars in panels for _, r in bars for x in r if x] + [1.5]) * 1.4
scale = width / top_ratio
h = top + sum(30 + len(b) * row_h * 2 + 10 for _, b in panels) + 30
s = [f"<svg xmlns='http://www.w3.org/2000/svg' width='{left + width + 60}' height='{h}' "
     "font-family='sans-serif' font-size='11'>", "<rect width='100%' height='100%' fill='white'/>",
     "<text x='10' y='16' font-size='14'>Codebook / FAISS 1.7.3 AVX2 (timed from C++), QPS ratio</text>",
     "<text x='10' y='32'>bars: ratio of the median passes; whiskers: worst to best pairing of passes</text>",
     f"<rect x='{left}' y='40' width='10' height='8' fill='#1f77b4'/><text x='{left + 14}' y='48'>batched</text>",
     f"<rect x='{left + 80}' y='40' width='10' height='8' fill='#ff7f0e'/><text x='{left + 94}' y='48'>one query per call</text>"]
y = top
for dataset, bars in panels:
    y += 20
    s.append(f"<text x='10' y='{y}' font-size='13'>{dataset}</text>")
    y0 = y + 6
    for label, r in bars:
        s.append(f"<text x='{left - 6}' y='{y + row_h + 4}' text-anchor='end'>{label}</text>")
        for i, (x, color) in enumerate(zip(r, ("#1f77b4", "#ff7f0e"))):
            yy = y + 6 + i * row_h
            if x:
                s.append(f"<rect x='{left}' y='{yy}' width='{x[0] * scale:.1f}' height='{row_h - 4}' fill='{color}'/>")
                lo, hi = min(x[1], top_ratio), min(x[2], top_ratio)
                s.append(f"<line x1='{left + lo * scale:.1f}' x2='{left + hi * scale:.1f}' "
                         f"y1='{yy + row_h / 2 - 2}' y2='{yy + row_h / 2 - 2}' stroke='black'/>")
                s.append(f"<text x='{left + max(x[0], hi) * scale + 4:.1f}' y='{yy + row_h - 6}'>{x[0]:.2f}x</text>")
        y += row_h * 2
    one = left + scale
    s.append(f"<line x1='{one:.1f}' x2='{one:.1f}' y1='{y0}' y2='{y + 6}' stroke='#d62728' stroke-dasharray='4 3'/>")
    s.append(f"<text x='{one + 2:.1f}' y='{y + 16}' fill='#d62728'>1x</text>")
    y += 20
s.append("</svg>")
print("\n".join(s))
