"""The layered layout's steps for one model level: ranks, placeholders, order, positions, arrows.

Coordinates are (cross, main) in inches (see `_plot_layout`). Node kinds: "box" (a layer),
"block" (an expanded nested model), "dummy" (an edge passing through a rank) and "exit" (where
an output leaves a nested model, one rank below its content).
"""
import heapq

GAP_CROSS = 0.25        # between two boxes side by side
GAP_THIN = 0.10         # next to an edge placeholder
DUMMY_W = 0.10
GAP_RANK = 0.30         # least room between two ranks
TRACK = 0.07            # room per horizontal arrow segment in one gap
SWEEPS = 8


class Node:
    __slots__ = ("kind", "ce", "me", "ref", "rank", "c", "m")

    def __init__(self, kind, ce, me, ref):
        self.kind, self.ce, self.me, self.ref = kind, ce, me, ref
        self.rank, self.c, self.m = 0, 0.0, 0.0


class Placed:
    """A laid-out level: boxes `[layer, path, lines, c, m, ce, me]`, frames
    `[label, path, c0, m0, c1, m1]`, edges `[src box, dst box, points, back]`, the entry point
    of each input `(box, point)`, the route of each output to its exit `(box, points)`."""

    def __init__(self, ce, me):
        self.boxes, self.frames, self.edges = [], [], []
        self.entries, self.exits = [], []
        self.ce, self.me = ce, me

    def shift(self, dc, dm):
        for b in self.boxes:
            b[3] += dc
            b[4] += dm
        for f in self.frames:
            f[2:] = [f[2] + dc, f[3] + dm, f[4] + dc, f[5] + dm]
        for e in self.edges:
            e[2] = [(c + dc, m + dm) for c, m in e[2]]
        self.entries = [(b, (c + dc, m + dm)) for b, (c, m) in self.entries]
        self.exits = [(b, [(c + dc, m + dm) for c, m in pts]) for b, pts in self.exits]

    def absorb(self, inner):
        """Append `inner`'s boxes, frames and edges; returns the index offset of its boxes."""
        off = len(self.boxes)
        self.boxes.extend(inner.boxes)
        self.frames.extend(inner.frames)
        self.edges.extend([s + off, d + off, p, b] for s, d, p, b in inner.edges)
        return off


class Grid:
    """Ranks, order and coordinates of one level's nodes (computed on construction)."""

    def __init__(self, nodes, edges):
        self.nodes, self.edges = nodes, edges
        self._rank()
        self._expand()
        self._order()
        self._cross()
        self._main()

    # -- 1. ranks: longest path over a topological order; cycle edges become back edges -----
    def _rank(self):
        n = len(self.nodes)
        succs, indeg = [[] for _ in range(n)], [0] * n
        for u, v in {(u, v) for u, v, _, _ in self.edges if u != v}:
            succs[u].append(v)
            indeg[v] += 1
        pos, heap, count = [None] * n, [i for i in range(n) if indeg[i] == 0], 0
        heapq.heapify(heap)
        while count < n:
            if not heap:            # a cycle: start from its earliest node
                heapq.heappush(heap, next(i for i in range(n) if pos[i] is None))
            v = heapq.heappop(heap)
            if pos[v] is not None:
                continue
            pos[v], count = count, count + 1
            for w in succs[v]:
                indeg[w] -= 1
                if indeg[w] == 0 and pos[w] is None:
                    heapq.heappush(heap, w)
        self.pos = pos
        self.forward = [e for e, (u, v, _, _) in enumerate(self.edges) if pos[u] < pos[v]]
        self.back = [e for e, (u, v, _, _) in enumerate(self.edges) if pos[u] >= pos[v]]
        rank = [0] * n
        preds = [[] for _ in range(n)]
        for e in self.forward:
            u, v = self.edges[e][:2]
            preds[v].append(u)
        for v in sorted(range(n), key=pos.__getitem__):
            rank[v] = max((rank[u] + 1 for u in preds[v]), default=0)
        last = max((r for r, nd in zip(rank, self.nodes) if nd.kind != "exit"), default=-1)
        for v, nd in enumerate(self.nodes):
            nd.rank = last + 1 if nd.kind == "exit" else rank[v]

    # -- 2. placeholders for edges that span several ranks ------------------------------------
    def _expand(self):
        self.chains = {}
        for e in self.forward:
            u, v = self.edges[e][:2]
            chain = [u]
            for r in range(self.nodes[u].rank + 1, self.nodes[v].rank):
                dummy = Node("dummy", DUMMY_W, 0.0, e)
                dummy.rank = r
                chain.append(len(self.nodes))
                self.nodes.append(dummy)
                self.pos.append(self.pos[u] + 0.5)
            self.chains[e] = chain + [v]
        self.segs, self.seg_start = [], {}
        for e, ch in self.chains.items():       # an edge's segments are consecutive
            self.seg_start[e] = len(self.segs)
            self.segs.extend((a, b, e) for a, b in zip(ch, ch[1:]))
        n = len(self.nodes)
        self.up, self.down = [[] for _ in range(n)], [[] for _ in range(n)]
        for a, b, _ in self.segs:
            self.down[a].append(b)
            self.up[b].append(a)
        self.n_ranks = max((nd.rank for nd in self.nodes), default=-1) + 1

    # -- 3a. order within ranks: barycentre sweeps, keeping the fewest crossings -------------
    def _order(self):
        layers = [[] for _ in range(self.n_ranks)]
        for v in sorted(range(len(self.nodes)), key=self.pos.__getitem__):
            layers[self.nodes[v].rank].append(v)
        self.layers = layers
        self._index()
        best, best_x = [list(l) for l in layers], self._crossings()
        for sweep in range(SWEEPS):
            down = sweep % 2 == 0
            ranks = range(1, self.n_ranks) if down else range(self.n_ranks - 2, -1, -1)
            nb = self.up if down else self.down
            for r in ranks:
                layers[r].sort(key=lambda v: self._bary(v, nb))
                self._index(r)
            crossings = self._crossings()
            if crossings < best_x:
                best, best_x = [list(l) for l in layers], crossings
        self.layers = best
        self._index()

    def _index(self, r=None):
        if r is None:
            self.at = [0] * len(self.nodes)
        for layer in (self.layers if r is None else [self.layers[r]]):
            for i, v in enumerate(layer):
                self.at[v] = i

    def _bary(self, v, nb):
        return sum(self.at[u] for u in nb[v]) / len(nb[v]) if nb[v] else self.at[v]

    def _crossings(self):
        by_gap = {}
        for a, b, _ in self.segs:
            by_gap.setdefault(self.nodes[a].rank, []).append((self.at[a], self.at[b]))
        return sum((a1 - a2) * (b1 - b2) < 0 for segs in by_gap.values()
                   for i, (a1, b1) in enumerate(segs) for a2, b2 in segs[i + 1:])

    # -- 3b. cross positions: near the neighbours' mean, without overlaps -------------------
    def _sep(self, a, b):
        na, nb = self.nodes[a], self.nodes[b]
        thin = na.kind in ("dummy", "exit") or nb.kind in ("dummy", "exit")
        return (na.ce + nb.ce) / 2 + (GAP_THIN if thin else GAP_CROSS)

    def _cross(self):
        nodes = self.nodes
        for layer in self.layers:
            x = 0.0
            for k, v in enumerate(layer):
                x += self._sep(layer[k - 1], v) if k else nodes[v].ce / 2
                nodes[v].c = x
        # Alternate sweeps; the last one goes down, so a layer sits under the layers feeding it
        # (a chain runs straight). Placeholders weigh less: they yield to boxes, and a merge
        # lines up with its boxes rather than with a skip connection.
        # A box looks through a placeholder to the box at the far end of that edge, with full
        # weight: a merge then centres between its branches instead of drifting to one side.
        weight = [0.01 if nd.kind in ("dummy", "exit") else 1.0 for nd in nodes]
        far = {}
        for e, chain in self.chains.items():
            for d in chain[1:-1]:
                far[d] = (chain[0], chain[-1])
        for sweep in range(2 * SWEEPS + 1):
            down = sweep % 2 == 0
            nb = self.up if down else self.down
            for r in (range(self.n_ranks) if down else range(self.n_ranks - 1, -1, -1)):
                layer = self.layers[r]
                want = []
                for v in layer:
                    ends = [far[u][0 if down else 1] if u in far and v not in far else u
                            for u in nb[v]]
                    want.append(_mean([nodes[u].c for u in ends],
                                      [max(weight[u], weight[v]) for u in ends], nodes[v].c))
                seps = [self._sep(a, b) for a, b in zip(layer, layer[1:])]
                for v, c in zip(layer, _place(want, seps, [weight[v] for v in layer])):
                    nodes[v].c = c
        left = min((nd.c - nd.ce / 2 for nd in nodes), default=0.0)
        for nd in nodes:
            nd.c -= left
        self.width = max((nd.c + nd.ce / 2 for nd in nodes), default=0.0)

    # -- 3c. main positions: rank bands with room for the arrows' tracks ------------------------
    def _main(self):
        thick = [max((self.nodes[v].me for v in layer), default=0.0) for layer in self.layers]
        per_gap = [0] * self.n_ranks
        for a, _, _ in self.segs:
            per_gap[self.nodes[a].rank] += 1
        exits_at = {nd.rank for nd in self.nodes if nd.kind == "exit"}
        self.top, m = [], 0.0
        for r in range(self.n_ranks):
            self.top.append(m)
            least = 0.0 if r + 1 in exits_at else GAP_RANK   # exits: just the frame's padding
            m += thick[r] + max(least, TRACK * (per_gap[r] + 1))
        self.thick = thick
        for nd in self.nodes:
            nd.m = self.top[nd.rank] + thick[nd.rank] / 2
        self.height = self.top[-1] + thick[-1] if self.n_ranks else 0.0

    def place(self, level, subs, path):
        from ._plot_arrows import place_level
        return place_level(self, level, subs, path)


def _mean(values, weights, default):
    total = sum(weights)
    return sum(v * w for v, w in zip(values, weights)) / total if total else default


def _place(want, seps, weights):
    """Positions closest to `want` (weighted least squares) with `x[i+1] - x[i] >= seps[i]`:
    pool-adjacent-violators on the targets shifted by the cumulative separations."""
    offs = [0.0]
    for s in seps:
        offs.append(offs[-1] + s)
    blocks = []                 # [weighted sum, total weight, count] of pooled shifted targets
    for t, o, w in zip(want, offs, weights):
        blocks.append([(t - o) * w, w, 1])
        while len(blocks) > 1 and blocks[-2][0] * blocks[-1][1] > blocks[-1][0] * blocks[-2][1]:
            s, w, c = blocks.pop()
            blocks[-1][0] += s
            blocks[-1][1] += w
            blocks[-1][2] += c
    out = []
    for s, w, c in blocks:
        out.extend([s / w] * c)
    return [y + o for y, o in zip(out, offs)]
