"""Regenerate every figure: ``python -m figures [NAME ...] [--quick]``."""

import argparse
import importlib
import sys
import time

from . import FIGURES


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m figures", description=__doc__)
    p.add_argument("names", nargs="*", help=f"subset of {list(FIGURES)}")
    p.add_argument("--quick", action="store_true", help="reduced resolution (smoke test)")
    p.add_argument("--outdir", default=None, help="output folder (default figures/output)")
    args = p.parse_args(argv)
    unknown = [n for n in args.names if n not in FIGURES]
    if unknown:
        p.error(f"unknown figure(s) {unknown}; known: {list(FIGURES)}")
    failed = []
    for name in args.names or list(FIGURES):
        t0 = time.perf_counter()
        mod = importlib.import_module(FIGURES[name])
        paths = mod.main(quick=args.quick, outdir=args.outdir)
        ok = paths.get("ok", True)
        print(f"[{name}] {'ok' if ok else 'SOME POINTS FAILED'} in {time.perf_counter() - t0:.1f}s: "
              + ", ".join(str(v) for k, v in paths.items() if k != "ok"), flush=True)
        if not ok:
            failed.append(name)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
