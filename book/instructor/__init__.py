"""The instructor's site: the worked solutions of solutions/, executed (``make instructor``)."""
