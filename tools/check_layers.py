#!/usr/bin/env python3
"""Checks elm's layering from the #include lines of its sources (no build needed).

Usage: check_layers.py ROOT [FILE ...]
  ROOT   the directory the paths are relative to (the workspace root, or runfiles).
  FILE   sources to check (default: every .h/.cc under the layered packages).

The layer map (README.md, "Folders"): a package may include only itself and the
packages listed for it. Tests (*_test.cc, *_benchmark*.cc, test_*.cc) may also
include io/ (golden vectors are ELMTENSOR and .pt files). Reports, and exits 1 on:
  * an include that crosses the layers the wrong way (e.g. elm/ including data/);
  * an include cycle between modules (a module is foo.h + foo.cc);
  * an include of a file that does not exist in ROOT.
"""
import collections
import os
import re
import sys

# package -> the packages it may include, besides itself.
LAYERS = {
    'base': [],
    'io': ['base'],
    'autodiff': ['base'],
    'elm': ['autodiff', 'io', 'base'],
    'data': ['io', 'base'],
    'experiments': ['elm', 'data', 'autodiff', 'io', 'base'],
}
TEST_EXTRA = ['io']
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def is_test(path):
    name = os.path.basename(path)
    return (name.endswith(('_test.cc', '_test.h')) or '_benchmark' in name
            or name.startswith('test_'))


def module(path):
    return re.sub(r'\.(h|cc)$', '', path)


def check(root, files):
    problems = []
    edges = collections.defaultdict(set)
    for rel in sorted(files):
        pkg = rel.split('/')[0]
        if pkg not in LAYERS:
            continue
        allowed = set(LAYERS[pkg]) | {pkg}
        if is_test(rel):
            allowed |= set(TEST_EXTRA)
        with open(os.path.join(root, rel), errors='replace') as f:
            lines = f.read().splitlines()
        for number, line in enumerate(lines, 1):
            m = INCLUDE.match(line)
            if not m:
                continue
            target = m.group(1)
            tpkg = target.split('/')[0]
            if tpkg not in LAYERS:
                continue  # third-party or generated elsewhere
            if tpkg not in allowed:
                problems.append(
                    '%s:%d: includes %s, but %s/ may include only %s' %
                    (rel, number, target, pkg, ', '.join(
                        p + '/' for p in [pkg] + LAYERS[pkg])))
            if (not target.endswith('.pb.h') and
                    not os.path.exists(os.path.join(root, target))):
                problems.append('%s:%d: includes %s, which does not exist' %
                                (rel, number, target))
            if not is_test(rel) and module(target) != module(rel):
                edges[module(rel)].add(module(target))
    for cycle in cycles(edges):
        problems.append('include cycle: ' + ' -> '.join(cycle + cycle[:1]))
    return problems


def cycles(edges):
    """The strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]
    sys.setrecursionlimit(100000)

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(edges.get(v, ())):
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
                out.append(sorted(comp))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def main(argv):
    root = argv[1]
    files = argv[2:]
    if not files:
        for pkg in LAYERS:
            for dirpath, _, names in os.walk(os.path.join(root, pkg)):
                for n in names:
                    if n.endswith(('.h', '.cc')):
                        files.append(
                            os.path.relpath(os.path.join(dirpath, n), root))
    problems = check(root, files)
    for p in problems:
        print(p)
    print('%d source file(s) checked, %d problem(s)' % (len(files), len(problems)))
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
