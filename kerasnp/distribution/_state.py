"""Which distribution is set. `active` is the distribution only when it spans several
processes: the training engine tests `active is None` once per step, so a single process (no
distribution, or a one-rank DataParallel) runs exactly the code it runs without one."""
current = None      # what set_distribution set (or None)
active = None       # `current` when it has more than one process, else None
