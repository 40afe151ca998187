#!/usr/bin/env python3
"""Import cycles between the files of one crate (shared/src by default, or the directory given): builds the graph of `crate::`/`super::` paths
(outside `#[cfg(test)] mod tests`) from each file to the file it names, and prints every
strongly connected group of more than one file. Run from the repository root."""
import os, re, sys
root = sys.argv[1] if len(sys.argv) > 1 else 'shared/src'
files = {}
for d, _, fs in os.walk(root):
    for f in fs:
        if f.endswith('.rs'):
            p = os.path.join(d, f)
            rel = os.path.relpath(p, root)[:-3]
            parts = rel.split('/')
            if parts[-1] in ('mod', 'lib'):
                parts = parts[:-1]
            files[tuple(parts)] = os.path.relpath(p, root)
def resolve(segs):
    best = ()
    for i in range(1, len(segs) + 1):
        if tuple(segs[:i]) in files:
            best = tuple(segs[:i])
    return best
edges = {}
for mod, path in files.items():
    src = open(os.path.join(root, path)).read()
    # drop #[cfg(test)] mod tests { ... } at end of file (tests are not module-level deps)
    m = re.search(r'#\[cfg\(test\)\]\s*mod tests', src)
    if m: src = src[:m.start()]
    deps = set()
    # expand `use crate::{a::b, c}` groups roughly
    for g in re.finditer(r'crate::\{([^}]*)\}', src):
        for item in g.group(1).split(','):
            segs = re.findall(r'[a-z_][a-z0-9_]*', item.split('{')[0])
            if segs: deps.add(resolve(segs))
    for m in re.finditer(r'crate((?:::[a-z_][a-z0-9_]*)+)', src):
        deps.add(resolve(m.group(1).strip(':').split('::')))
    for m in re.finditer(r'\bsuper((?:::[a-z_][a-z0-9_]*)+)', src):
        base = list(mod[:-1]) if not path.endswith('mod.rs') else list(mod[:-1])
        deps.add(resolve(base + m.group(1).strip(':').split('::')))
    deps.discard(()); deps.discard(mod)
    # a child module file depending on its parent mod.rs is still an edge
    edges[mod] = deps
# Tarjan SCC
idx, low, st, on, out, c = {}, {}, [], set(), [], [0]
sys.setrecursionlimit(10000)
def sc(v):
    idx[v] = low[v] = c[0]; c[0] += 1; st.append(v); on.add(v)
    for w in edges.get(v, ()):
        if w not in idx: sc(w); low[v] = min(low[v], low[w])
        elif w in on: low[v] = min(low[v], idx[w])
    if low[v] == idx[v]:
        comp = []
        while True:
            w = st.pop(); on.discard(w); comp.append(w)
            if w == v: break
        if len(comp) > 1: out.append(comp)
for v in list(edges):
    if v not in idx: sc(v)
name = lambda m: '/'.join(m) or 'lib'
for comp in out:
    print('CYCLE:', ', '.join(sorted(name(m) for m in comp)))
    for m in sorted(comp):
        print('   ', name(m), '->', ', '.join(sorted(name(d) for d in edges[m] if d in comp)))
print(f'{len(out)} cycle groups among {len(files)} files')
