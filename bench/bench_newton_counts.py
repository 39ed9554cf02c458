"""The side-by-side tables of docs/curvature/newton.md: fastopt's Newton methods and Levenberg-Marquardt
against scipy.optimize from the same starts, with the same callables (iterations and evaluations, and how
far apart the solutions are).  Counts only: these problems are tiny; bench_minimize.py has every method.

    python bench/bench_newton_counts.py
"""
import numpy as np
import scipy.optimize as so

import fastopt
from fastopt import landscape

PROBLEMS = {"rosenbrock 2-D": (landscape.get("rosenbrock"), [-1.2, 1.0]),
            "rosenbrock 10-D": (landscape.get("rosenbrock", dim=10), np.tile([1.3, 0.7, 0.8, 1.9, 1.2], 2)),
            "quadratic 1e3 (10-D)": (landscape.get("quadratic", dim=10, condition=1e3), None),
            "quadratic 1e6 (10-D)": (landscape.get("quadratic", dim=10, condition=1e6), None),
            "beale": (landscape.get("beale"), [1.0, 1.0])}
PAIRS = [("newton", "trust-exact"), ("saddle-free-newton", "trust-exact"), ("newton-cg", "Newton-CG"),
         ("trust-ncg", "trust-ncg")]


def main():
    print("| problem | method | fastopt nit / nfev / nhev | scipy method | scipy nit / nfev / nhev | max abs x diff |")
    print("|---|---|---|---|---|---:|")
    for name, (f, x0) in PROBLEMS.items():
        x0 = np.array(f.start if x0 is None else x0, float)
        for ours, theirs in PAIRS:
            curvature = {"hess": f.hessian} if theirs == "trust-exact" else {"hessp": f.hessp}
            r = fastopt.minimize(f.value, x0, jac=f.grad, method=ours, options={"gtol": 1e-8}, **curvature)
            options = {"xtol": 1e-14} if theirs == "Newton-CG" else {"gtol": 1e-8}
            s = so.minimize(f.value, x0, jac=f.grad, method=theirs, options=options, **curvature)
            print(f"| {name} | {ours} | {r.nit} / {r.nfev} / {r.nhev} | {theirs} | {s.nit} / {s.nfev} / "
                  f"{s.get('nhev', '-')} | {np.abs(r.x - s.x).max():.1e} |")
    print()
    print("| problem | fastopt lm nit / nfev / njev | scipy lm nfev / njev | max abs x diff |")
    print("|---|---|---|---:|")
    for name in ["rosenbrock 2-D", "rosenbrock 10-D", "beale"]:
        f, x0 = PROBLEMS[name]
        x0 = np.array(x0, float)
        r = fastopt.least_squares(f, x0, xtol=1e-12, ftol=1e-12, gtol=1e-10)
        s = so.least_squares(f.residuals, x0, jac=f.jacobian, method="lm", xtol=1e-12, ftol=1e-12, gtol=1e-12)
        print(f"| {name} | {r.nit} / {r.nfev} / {r.njev} | {s.nfev} / {s.njev} | {np.abs(r.x - s.x).max():.1e} |")


if __name__ == "__main__":
    main()
