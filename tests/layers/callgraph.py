#!/usr/bin/env python3
"""The library's file graph from its objects' symbols (nm): file A -> B when
A calls or reads something B defines. Prints one line per edge ("A B
symbol") and, for every cycle, "CYCLE a b ..." with the edges inside it."""
import os
import subprocess
import sys

objs = sys.argv[1:]
defs, uses = {}, {}
for o in objs:
    f = os.path.basename(o)[:-2]
    out = subprocess.run(['nm', o], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        p = line.split()
        if len(p) == 3 and p[1] in 'TDRB':
            defs[p[2]] = f
        elif len(p) == 2 and p[0] == 'U':
            uses.setdefault(f, set()).add(p[1])
g = {}
for f, us in uses.items():
    for u in us:
        if defs.get(u, f) != f:
            g.setdefault(f, {}).setdefault(defs[u], []).append(u)
for a in sorted(g):
    for b in sorted(g[a]):
        print('EDGE', a, b, sorted(g[a][b])[0])
# Tarjan's strongly connected components: a component of more than one
# file is a cycle.
index, low, stack, on, n = {}, {}, [], set(), [0]
sys.setrecursionlimit(10000)


def visit(v):
    index[v] = low[v] = n[0]
    n[0] += 1
    stack.append(v)
    on.add(v)
    for w in g.get(v, {}):
        if w not in index:
            visit(w)
            low[v] = min(low[v], low[w])
        elif w in on:
            low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        comp = []
        while True:
            w = stack.pop()
            on.discard(w)
            comp.append(w)
            if w == v:
                break
        if len(comp) > 1:
            edges = ['%s->%s(%s)' % (a, b, sorted(g[a][b])[0])
                     for a in comp for b in comp if b in g.get(a, {})]
            print('CYCLE', ' '.join(sorted(comp)), ' '.join(edges))


for v in sorted(set(g) | {w for d in g.values() for w in d}):
    if v not in index:
        visit(v)
