# Reference numbers for the study-level effect sizes of every measure and input shape of the study_effects
# sheet (workflow/scripts/umbrella/reanalysis/effect_sizes.py), computed with metafor's escalc on small
# hand-made inputs. tests/test_measures.py holds the numbers this script prints, each next to the call that
# gave it.
#
# Conventions (as metaumbrella 1.1; Gosling et al. 2023):
#   SMC: the standardised mean change of each arm by change-score standardisation, escalc("SMCC") (J with
#        n - 1 df; Gibbons et al. 1993, Becker 1988), intervention minus control, variances added.
#   MC:  the raw mean change of each arm, escalc("MC"), intervention minus control, variances added.
#   R/Z: Fisher's z, escalc("ZCOR") (variance 1/(n - 3)); pooled on z and shown back on r (transf.ztor).
#   IRR from events and person-time: escalc("IRR") (1/2 added to both counts when one is 0).
#   An interval at level L: SE = (upper - lower) / (2 qnorm(1 - (1 - L/100)/2)) on the analysis scale.
#
# Run from the repository root:
#   Rscript tests/reference/measures_escalc.R
#
# Run with: R version 4.2.2 Patched (2022-11-10 r83330), metafor 3.8.1
# (the script prints R.version.string and packageVersion("metafor") when it runs).

suppressPackageStartupMessages(library(metafor))
cat(R.version.string, "\n")
cat("metafor", as.character(packageVersion("metafor")), "\n")
options(digits = 15)

show <- function(label, yi, vi) cat(sprintf("%-10s yi = %.12f  vi = %.12f\n", label, yi, vi))
esc <- function(label, ...) {
  e <- escalc(...)
  show(label, e$yi, e$vi)
  invisible(e)
}

# SMD, G and MD from means and SDs (Hedges' g with the exact J)
esc("SMD", "SMD", m1i = 10, sd1i = 2, n1i = 20, m2i = 12, sd2i = 3, n2i = 30)
esc("MD", "MD", m1i = 10, sd1i = 2, n1i = 20, m2i = 12, sd2i = 3, n2i = 30)

# SMC from pre/post means and SDs: intervention pre 20 (SD 4), post 15 (SD 5), n 25; control pre 21 (SD 4.5),
# post 19 (SD 5.5), n 24; pre/post correlation 0.8 (metaumbrella's default) and 0.6
for (r in c(0.8, 0.6)) {
  t <- escalc("SMCC", m1i = 15, m2i = 20, sd1i = 5, sd2i = 4, ri = r, ni = 25)
  c <- escalc("SMCC", m1i = 19, m2i = 21, sd1i = 5.5, sd2i = 4.5, ri = r, ni = 24)
  show(sprintf("SMC r=%.1f", r), t$yi - c$yi, t$vi + c$vi)
}
# SMC from change scores: intervention change -5 (SD 3), n 25; control -2 (SD 3.5), n 24
t <- escalc("SMCC", m1i = -5, m2i = 0, sd1i = 3, sd2i = 0, ri = 0, ni = 25)
c <- escalc("SMCC", m1i = -2, m2i = 0, sd1i = 3.5, sd2i = 0, ri = 0, ni = 24)
show("SMC chg", t$yi - c$yi, t$vi + c$vi)
# MC from pre/post means and SDs (correlation 0.8) and from change scores
t <- escalc("MC", m1i = 15, m2i = 20, sd1i = 5, sd2i = 4, ri = 0.8, ni = 25)
c <- escalc("MC", m1i = 19, m2i = 21, sd1i = 5.5, sd2i = 4.5, ri = 0.8, ni = 24)
show("MC r=0.8", t$yi - c$yi, t$vi + c$vi)
t <- escalc("MC", m1i = -5, m2i = 0, sd1i = 3, sd2i = 0, ri = 0, ni = 25)
c <- escalc("MC", m1i = -2, m2i = 0, sd1i = 3.5, sd2i = 0, ri = 0, ni = 24)
show("MC chg", t$yi - c$yi, t$vi + c$vi)

# R and Z: r = 0.3 with n = 50
esc("ZCOR", "ZCOR", ri = 0.3, ni = 50)
# R with a 95 % CI [0.03, 0.53] and no n: SE on Fisher's z
show("R CI", atanh(0.3), ((atanh(0.53) - atanh(0.03)) / (2 * qnorm(0.975)))^2)

# 2x2 counts: OR, RR, RD; and a zero cell (1/2 added to every cell)
esc("OR", "OR", ai = 10, n1i = 100, ci = 20, n2i = 100)
esc("OR zero", "OR", ai = 0, n1i = 50, ci = 5, n2i = 50)
esc("RR", "RR", ai = 10, n1i = 100, ci = 20, n2i = 100)
esc("RD", "RD", ai = 10, n1i = 100, ci = 20, n2i = 100)

# IRR from events and person-time; and a zero count
esc("IRR", "IRR", x1i = 12, t1i = 1000, x2i = 20, t2i = 1100)
esc("IRR zero", "IRR", x1i = 0, t1i = 500, x2i = 6, t2i = 450)

# Intervals at other levels: HR 0.8 with a 90 % CI [0.7, 0.92]; MD -2 with a 99 % CI [-3.5, -0.5]
show("HR 90", log(0.8), ((log(0.92) - log(0.7)) / (2 * qnorm(0.95)))^2)
show("MD 99", -2, ((-0.5 - -3.5) / (2 * qnorm(0.995)))^2)

# Pooling R on Fisher's z (REML) and showing it back on r
dat <- escalc("ZCOR", ri = c(0.3, 0.45, 0.1), ni = c(50, 80, 120))
m <- rma(yi, vi, data = dat, method = "REML")
p <- predict(m, transf = transf.ztor)
cat(sprintf("pooled R: z = %.12f  se = %.12f  tau2 = %.12f  r = %.12f  ci = [%.12f, %.12f]\n",
            as.numeric(m$b), m$se, m$tau2, p$pred, p$ci.lb, p$ci.ub))
