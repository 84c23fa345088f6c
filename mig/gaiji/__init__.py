"""外字: the MJ character table, vendor registries, the resolver and the target policies.

- :mod:`mig.gaiji.mj` — the packaged MJ文字情報一覧表 (+ readings, radicals, MJ縮退マップ) and
  :func:`~mig.gaiji.mj.lookup`.
- :mod:`mig.gaiji.registry` — per-source registries: vendor code → MJ文字図形名 / text.
- :mod:`mig.gaiji.resolve` — the vectorised resolver used by the extract pipeline.
- :mod:`mig.gaiji.policy` — target policies used by ``mig load`` (keep / strip / shrink / fail).
- :mod:`mig.demo.registry` — the demo vendor's registry and how ``mig demo`` switches it on.

Data (``gaiji/`` in a checkout, ``mig/_data/gaiji`` in a wheel): ``mj.parquet``,
``mjsm.parquet`` (CC BY-SA 2.1 JP, see ``LICENSE-MJ.md``), ``registries/``.
"""

from __future__ import annotations
