"""Time the random-effects engine on simulated outcomes and print outcomes per second.

All fits of every outcome at once: REML tau², estimate, CI, Q, I², prediction interval, Egger's test, excess
significance and leave-one-out. When R and metafor are installed (`apt-get install r-base-core r-cran-metafor`)
a sample is also fitted with metafor's rma() and the largest difference is printed.

Run: .venv/bin/python benchmarks/bench_meta.py [n_outcomes] [studies_per_outcome]   (default: 10000 10)
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "workflow" / "scripts"))

from umbrella.reanalysis.bias_tests import egger, excess_significance  # noqa: E402
from umbrella.reanalysis.model import fit, leave_one_out, pad  # noqa: E402
from umbrella.reanalysis.settings import MetaSettings  # noqa: E402


def simulate(n_outcomes: int, k: int, seed: int = 1) -> pd.DataFrame:
    """Outcomes of about ``k`` studies (k − 3 to k + 3) with true effects, heterogeneity and study sizes."""
    rng = np.random.default_rng(seed)
    sizes = np.clip(rng.integers(k - 3, k + 4, size=n_outcomes), 2, None)
    outcome = np.repeat(np.arange(n_outcomes), sizes)
    mu = rng.normal(0.2, 0.3, n_outcomes)[outcome]
    tau = rng.uniform(0, 0.3, n_outcomes)[outcome]
    n = rng.integers(20, 400, size=len(outcome))
    vi = 4 / n
    yi = rng.normal(mu, np.sqrt(vi + tau**2))
    return pd.DataFrame({"outcome": outcome, "yi": yi, "vi": vi})


def run(data: pd.DataFrame, settings: MetaSettings) -> dict[str, np.ndarray]:
    padded, _ = pad(data["outcome"].to_numpy(), data["yi"].to_numpy(), data["vi"].to_numpy())
    res = fit(padded, settings)
    res["egger_t"], res["egger_p"] = egger(padded)
    se = np.sqrt(padded.v)
    z_test = np.full(se.shape, np.inf)
    res["esb_p"] = excess_significance(
        padded.y, se, z_test, padded.mask, np.nan_to_num(res["tau2"]), res["fe_estimate"]
    )["p"]
    res["jk_max_p"], _ = leave_one_out(padded, settings)
    return res


def compare_with_metafor(data: pd.DataFrame, res: dict[str, np.ndarray], sample: int = 200) -> None:
    if not shutil.which("Rscript"):
        print("metafor comparison skipped: Rscript not found")
        return
    subset = data[data["outcome"] < sample]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "data.csv"
        subset.to_csv(path, index=False)
        script = (
            "suppressMessages(library(metafor)); d <- read.csv(commandArgs(TRUE)[1]); "
            "out <- do.call(rbind, lapply(split(d, d$outcome), function(g) { "
            "m <- rma(yi, vi, data = g, method = 'REML', control = list(maxiter = 1000)); "
            "c(g$outcome[1], m$b[1], m$se, m$tau2) })); "
            "write.csv(out, stdout(), row.names = FALSE)"
        )
        result = subprocess.run(["Rscript", "-e", script, str(path)], capture_output=True, text=True)
    if result.returncode != 0:
        print("metafor comparison failed:", result.stderr.strip().splitlines()[-1:])
        return
    ref = pd.read_csv(pd.io.common.StringIO(result.stdout))
    ref.columns = ["outcome", "estimate", "se", "tau2"]
    idx = ref["outcome"].astype(int).to_numpy()
    for col in ("estimate", "se", "tau2"):
        diff = np.nanmax(np.abs(res[col][idx] - ref[col].to_numpy()))
        print(f"largest |difference| from metafor over {len(ref)} outcomes, {col}: {diff:.2e}")


def main(n_outcomes: int = 10_000, k: int = 10) -> None:
    settings = MetaSettings()
    data = simulate(n_outcomes, k)
    run(simulate(10, k), settings)  # warm up imports and caches
    best = np.inf
    for _ in range(3):
        start = time.perf_counter()
        res = run(data, settings)
        best = min(best, time.perf_counter() - start)
    print(
        f"{n_outcomes:,} outcomes, {len(data):,} studies (about {k} per outcome): REML fits with prediction "
        f"interval, Egger, excess significance and leave-one-out in {best:.2f} s (best of 3) = "
        f"{n_outcomes / best:,.0f} outcomes/s"
    )
    compare_with_metafor(data, res)


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
