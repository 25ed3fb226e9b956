"""Markdown tables of the constants re-check (ConstantsCheck JSON lines)."""
import json, sys, collections, os
d = sys.argv[1]
def load(name):
    p = os.path.join(d, name + '.jsonl')
    if not os.path.exists(p): return []
    return [json.loads(l) for l in open(p) if l.startswith('{')]
def k(x): return f"{x/1000:.1f}k" if x >= 1000 else f"{x:.0f}"
out = []
rows = load('listmajor')
if rows:
    out.append('### List-major against query-major, one batch of 1,000 queries, one thread\n')
    out.append('| data | index | nprobe | recall@10 | query-major QPS | list-major QPS | ratio | same ids |')
    out.append('|---|---|---|---|---|---|---|---|')
    g = collections.OrderedDict()
    for r in rows: g.setdefault((r['dataset'], r['index'], r['setting']), {})[r['variant']] = r
    for (ds, ix, st), v in g.items():
        if len(v) < 2: continue
        a, b = v['query-major'], v['list-major']
        out.append(f"| {ds} | {ix} | {st.split('=')[1]} | {a['recall@10']:.4f} | {k(a['qps'])} | {k(b['qps'])} | {b['qps']/a['qps']:.2f} | {b['ids_as_first_variant']} |")
rows = load('preselect')
if rows:
    out.append('\n### Pre-selecting the lists against scoring every centroid\n')
    out.append('| data | index | nprobe | recall@10 all / pre-selected | 1q QPS all / pre (ratio) | batched QPS all / pre (ratio) |')
    out.append('|---|---|---|---|---|---|')
    g = collections.OrderedDict()
    for r in rows: g.setdefault((r['dataset'], r['index'], r['setting']), {})[(r['mode'], r['variant'])] = r
    for (ds, ix, st), v in g.items():
        a1, p1 = v[('1q', 'all-centroids')], v[('1q', 'preselect')]
        ab, pb = v[('batched', 'all-centroids')], v[('batched', 'preselect')]
        out.append(f"| {ds} | {ix} | {st.split('=')[1]} | {a1['recall@10']:.4f} / {p1['recall@10']:.4f} | {k(a1['qps'])} / {k(p1['qps'])} ({p1['qps']/a1['qps']:.2f}) | {k(ab['qps'])} / {k(pb['qps'])} ({pb['qps']/ab['qps']:.2f}) |")
rows = load('calib')
if rows:
    out.append('\n### Exact best lists found by pre-selection, by candidate floor (test queries / 256 train rows)\n')
    floors = sorted({r['floor'] for r in rows})
    out.append('| data | index | nprobe | ' + ' | '.join(f'floor {f}' for f in floors) + ' |')
    out.append('|---|---|---|' + '---|' * len(floors))
    g = collections.OrderedDict()
    for r in rows: g.setdefault((r['dataset'], r['index'], r['nprobe']), {})[r['floor']] = r
    for (ds, ix, npb), v in g.items():
        cells = [f"{v[f]['found_test']:.3f} / {v[f]['found_train_sample']:.3f}" if f in v else '' for f in floors]
        out.append(f"| {ds} | {ix} | {npb} | " + ' | '.join(cells) + ' |')
rows = load('filter')
if rows:
    out.append('\n### Filtered search, one query per call: exact path against the index path lining up 1-32 x the widened nprobe\n')
    out.append('| data | index | rows | accepted | plan chooses (widened nprobe) | exact QPS | index QPS by factor 1 / 2 / 4 / 8 / 16 / 32 | index recall@10 of the filtered top 10 |')
    out.append('|---|---|---|---|---|---|---|---|')
    g = collections.OrderedDict()
    for r in rows: g.setdefault((r['dataset'], r['index'], r['setting']), {})[r['variant']] = r
    for (ds, ix, st), v in g.items():
        p = dict(x.split('=') for x in st.split(','))
        facs = [v.get(f'index-factor{f}') for f in (1, 2, 4, 8, 16, 32)]
        out.append(f"| {ds} | {ix} | {p.get('rows', 'random')} | {p['accepted']} ({float(p['selectivity'])*100:g}%) | {p['chosen']} ({p['widened']}) | {k(v['exact']['qps'])} | " + ' / '.join(k(f['qps']) for f in facs if f) + f" | {facs[0]['recall@10']:.3f} |")
print('\n'.join(out))
