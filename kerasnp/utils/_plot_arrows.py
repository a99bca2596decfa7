"""Boxes, frames and right-angled arrows of one laid-out level (the last step of the layout).

Each arrow leaves its box from the bottom (the right side for "LR"), through a port of its own
when a box has several arrows, runs down its own column, across on a track of its own in the
gap between two ranks, and down into the target's top. An arrow into an expanded nested model
ends at the input box inside its frame; one out of it starts at the output box and reaches the
frame's bottom through the nested level's own placeholders.
"""
from ._plot_route import Placed

_BACK_BUMP = 0.25        # how far a back edge bulges beside its boxes


def place_level(grid, level, subs, path):
    nodes = grid.nodes
    out = Placed(grid.width, grid.height)
    box_of, inner_of = {}, {}
    for v, nd in enumerate(nodes):
        if nd.kind == "box":
            item = level.items[nd.ref]
            box_of[v] = len(out.boxes)
            out.boxes.append([item.layer, path + (item.layer.name,), item.lines, nd.c, nd.m,
                              nd.ce, nd.me])
        elif nd.kind == "block":
            inner, label, pads = subs[nd.ref]
            c0, m0 = nd.c - nd.ce / 2, nd.m - nd.me / 2
            spare_c = nd.ce - (inner.ce + pads[0] + pads[1])
            spare_m = nd.me - (inner.me + pads[2] + pads[3])
            inner.shift(c0 + pads[0] + spare_c / 2, m0 + pads[2] + spare_m / 2)
            off = out.absorb(inner)
            name = level.items[nd.ref].layer.name
            out.frames.insert(0, [label, path + (name,), c0, m0, c0 + nd.ce, m0 + nd.me])
            inner_of[v] = (inner, off)

    def entry(v, pos):
        """(box, point) where an arrow into node v (input position `pos`) ends."""
        if v in inner_of:
            inner, off = inner_of[v]
            b, point = inner.entries[min(pos, len(inner.entries) - 1)]
            return b + off, point
        return box_of.get(v), None

    def exit_route(v, k):
        """(box, points to the frame's bottom) of output k of nested node v."""
        inner, off = inner_of[v]
        b, points = inner.exits[min(k, len(inner.exits) - 1)]
        return b + off, points

    # ports: each segment's start (bottom of a) and end (top of b)
    outs, ins = {}, {}
    for s, (a, b, e) in enumerate(grid.segs):
        outs.setdefault(a, []).append(s)
        ins.setdefault(b, []).append(s)
    start, end = {}, {}
    for v, segs in outs.items():
        nd = nodes[v]
        if v in inner_of:
            for s in segs:
                start[s] = exit_route(v, grid.edges[grid.segs[s][2]][2])[1][-1]
            continue
        bottom = grid.top[nd.rank] + grid.thick[nd.rank] if nd.kind == "dummy" \
            else nd.m + nd.me / 2
        _spread(segs, nd, bottom, lambda s: nodes[grid.segs[s][1]].c, start)
    for v, segs in ins.items():
        nd = nodes[v]
        if v in inner_of:
            for s in segs:
                end[s] = entry(v, grid.edges[grid.segs[s][2]][3])[1]
            continue
        top = grid.top[nd.rank] if nd.kind == "dummy" else nd.m - nd.me / 2
        _spread(segs, nd, top, lambda s: nodes[grid.segs[s][0]].c, end)

    _straighten(grid, start, end)

    # tracks: every bending segment of a gap gets its own height in that gap
    polyline, by_gap = {}, {}
    for s, (a, _, _) in enumerate(grid.segs):
        (pc, pm), (qc, qm) = start[s], end[s]
        if abs(pc - qc) < 0.01:               # aligned (to the eye): one straight line
            polyline[s] = [start[s], (pc, qm)]
        else:
            by_gap.setdefault(nodes[a].rank, []).append(s)
    for r, segs in by_gap.items():
        gap0 = grid.top[r] + grid.thick[r]
        gap = (grid.top[r + 1] if r + 1 < len(grid.top) else gap0 + 0.3) - gap0
        segs.sort(key=lambda s: (min(start[s][0], end[s][0]), max(start[s][0], end[s][0])))
        for k, s in enumerate(segs):
            t = gap0 + gap * (k + 1) / (len(segs) + 1)
            (pc, pm), (qc, qm) = start[s], end[s]
            polyline[s] = [(pc, pm), (pc, t), (qc, t), (qc, qm)]

    for e, chain in grid.chains.items():
        u, v, k, pos = grid.edges[e]
        points = []
        first = grid.seg_start[e]
        for s in range(first, first + len(chain) - 1):
            points.extend(polyline[s] if not points else polyline[s][1:])
        if u in inner_of:
            src, inner_points = exit_route(u, k)
            points = inner_points[:-1] + points
        else:
            src = box_of[u]
        points = _right_angles(points)
        if nodes[v].kind == "exit":
            out.exits.append((nodes[v].ref, src, points))
            continue
        dst = entry(v, pos)[0]
        out.edges.append([src, dst, points, False])
    out.exits = [(b, p) for _, b, p in sorted(out.exits, key=lambda t: t[0])]
    for e in grid.back:
        _back_edge(grid, e, out, box_of, entry, exit_route, inner_of)
    for v in level.inputs:
        nd = nodes[v]
        out.entries.append(entry(v, 0) if v in inner_of else
                           (box_of[v], (nd.c, nd.m - nd.me / 2)))
    return out


def _right_angles(points):
    """Drop repeated points and turn the rare slant (two ends within 0.01 in. drawn as one
    straight segment) into a right angle, so every segment is horizontal or vertical."""
    out = [points[0]]
    for q in points[1:]:
        p = out[-1]
        if q == p:
            continue
        if p[0] != q[0] and p[1] != q[1]:
            out.append((q[0], p[1]))
        out.append(q)
    return out


def _straighten(grid, start, end):
    """Slide each edge's placeholders, within the room their ranks leave, under the port above
    them: in one column for the whole edge where one fits, so a long edge runs straight and
    bends once, into its target."""
    nodes = grid.nodes
    for e, chain in grid.chains.items():
        # an exit (where a nested model's output leaves its frame) moves like a placeholder
        dummies = chain[1:] if nodes[chain[-1]].kind == "exit" else chain[1:-1]
        if not dummies:
            continue
        first = grid.seg_start[e]
        c = start[first][0]
        room = [_room(grid, v) for v in dummies]
        lo, hi = max(r[0] for r in room), min(r[1] for r in room)
        if lo <= hi:
            room = [(lo, hi)] * len(dummies)
        for k, (v, (lo, hi)) in enumerate(zip(dummies, room)):
            c = nodes[v].c = min(max(c, lo), hi)
            end[first + k] = (c, end[first + k][1])
            if k + 1 < len(chain) - 1:
                start[first + k + 1] = (c, start[first + k + 1][1])


def _room(grid, v):
    """The interval a placeholder may move in without nearing its rank neighbours."""
    nodes = grid.nodes
    layer, i = grid.layers[nodes[v].rank], grid.at[v]
    half = nodes[v].ce / 2                      # the drawing's edges bound the outermost
    lo = nodes[layer[i - 1]].c + grid._sep(layer[i - 1], v) if i else half
    hi = nodes[layer[i + 1]].c - grid._sep(v, layer[i + 1]) if i + 1 < len(layer) \
        else grid.width - half
    return min(lo, nodes[v].c), max(hi, nodes[v].c)


def _spread(segs, nd, level_m, other_c, ports):
    """Ports along a box's edge, ordered by the other ends' positions (fewer crossings)."""
    if nd.kind != "box" or len(segs) == 1:
        for s in segs:
            ports[s] = (nd.c, level_m)
        return
    segs = sorted(segs, key=other_c)
    left = nd.c - nd.ce / 2
    for i, s in enumerate(segs):
        ports[s] = (left + nd.ce * (i + 1) / (len(segs) + 1), level_m)


def _back_edge(grid, e, out, box_of, entry, exit_route, inner_of):
    """An edge against the rank order: out of the source's side, around, into the target's."""
    u, v, k, pos = grid.edges[e]
    src = exit_route(u, k)[0] if u in inner_of else box_of[u]
    dst = entry(v, pos)[0]
    if src is None or dst is None:
        return
    (_, _, _, c1, m1, ce1, me1), (_, _, _, c2, m2, ce2, me2) = out.boxes[src], out.boxes[dst]
    if src == dst:                       # a layer fed its own output: a loop on its side
        m1, m2 = m1 + me1 / 4, m2 - me2 / 4
    bump = max(c1 + ce1 / 2, c2 + ce2 / 2) + _BACK_BUMP
    points = [(c1 + ce1 / 2, m1), (bump, m1), (bump, m2), (c2 + ce2 / 2, m2)]
    out.edges.append([src, dst, points, True])
    out.ce = max(out.ce, bump + 0.05)
