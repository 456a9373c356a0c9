# Reference numbers for the study-level re-analysis of metaumbrella 1.1's example datasets
# (df.OR, df.RR, df.SMD), computed with metafor, to test the Python re-implementation
# (workflow/scripts/umbrella) against.
#
# For every `factor` of each dataset it fits rma(yi, vi, method = "REML") (z-based CI and p) and writes
# one row per factor and effect-size convention to tests/data/metaumbrella_examples_metafor.csv:
#   k, estimate, se, ci_lower, ci_upper, p_value, tau2, q, i2_q (Q-based I², %),
#   pi_lower, pi_upper (estimate ± qt(0.975, k-1)·sqrt(se² + tau2)),
#   egger_t, egger_p (regtest(model = "lm", predictor = "sei")),
#   esb_* (metaumbrella 1.1 esb.test, method "TESSPSST" with the UWLS true effect; Stanley et al. 2021),
#   largest_ci_lower, largest_ci_upper (own 95 % Wald CI of the study with the largest n1 + n2; ties: smaller |yi|),
#   jk_max_p (largest leave1out() p), rob_low_pct (RE-weighted % of studies with rob == "low"; NA without a rob column).
# Everything is on the analysis scale: log OR / log RR, Hedges' g for SMD. Full precision (15 significant digits).
# Conventions:
#   OR  ("2x2"):          escalc("OR", ai = n_cases_exp, bi = n_controls_exp, ci = n_cases_nexp, di = n_controls_nexp)
#   RR  ("2x2"):          escalc("RR", ai = n_cases_exp, n1i = n_exp, ci = n_cases_nexp, n2i = n_nexp)
#   SMD ("escalc"):       escalc("SMD", m1i = mean_cases, sd1i = sd_cases, n1i = n_cases,
#                                       m2i = mean_controls, sd2i = sd_controls, n2i = n_controls)
#   SMD ("metaumbrella"): the sheet's Cohen's d (`value`, SE `se`) -> g = J·d, SE_g = J·se,
#                         J = exp(lgamma(m/2) - log(sqrt(m/2)) - lgamma((m-1)/2)), m = n_cases + n_controls - 2.
#   Excess significance: OR/RR on (log effect, sqrt(vi)), study p = 2·pnorm(-|y/se|);
#                        SMD on Cohen's d = g / J with SE = sqrt(1/n1 + 1/n2), study p = 2·pt(-|d/se|, n1 + n2 - 2);
#                        theta = UWLS = coef(lm(y/se ~ 0 + I(1/se))); power_i = 1 - pnorm((1.96·se_i - |theta|)
#                        / sqrt(se_i² + tau2)) with the REML tau2 of the model; TESS and PSST one-sided z tests,
#                        esb_p = min of their p, esb_z = max of their z.
#
# Run from the repository root:
#   Rscript tests/reference/metaumbrella_examples.R [input_dir]
# input_dir holds metaumbrella_df.OR.csv, metaumbrella_df.RR.csv, metaumbrella_df.SMD.csv; by default tests/data
# if they are there, else ../shared/data/reference_cases (the project's shared reference cases).
#
# Run with: R version 4.2.2 Patched (2022-11-10 r83330), metafor 3.8.1
# (the script prints R.version.string and packageVersion("metafor") when it runs).

suppressPackageStartupMessages(library(metafor))
cat(R.version.string, "\n")
cat("metafor", as.character(packageVersion("metafor")), "\n")

args <- commandArgs(trailingOnly = TRUE)
candidates <- if (length(args) >= 1) args[1] else c("tests/data", "../shared/data/reference_cases",
                                                     "/work/shared/data/reference_cases")
input_dir <- NULL
for (d in candidates) {
  if (file.exists(file.path(d, "metaumbrella_df.OR.csv"))) { input_dir <- d; break }
}
if (is.null(input_dir)) stop("cannot find metaumbrella_df.OR.csv in: ", paste(candidates, collapse = ", "))
cat("inputs from", normalizePath(input_dir), "\n")
out_file <- "tests/data/metaumbrella_examples_metafor.csv"

z975 <- qnorm(0.975)  # the largest-study Wald CI
power_z <- 1.96  # metaumbrella's esb.test writes the critical value as 1.96

hedges_j <- function(m) exp(lgamma(m / 2) - log(sqrt(m / 2)) - lgamma((m - 1) / 2))

# Excess significance test (metaumbrella 1.1 esb.test, TESSPSST, UWLS true effect)
esb_test <- function(y, se, p_study, tau2) {
  k <- length(y)
  t <- y / se
  prec <- 1 / se
  theta <- unname(coef(lm(t ~ 0 + prec)))
  power <- 1 - pnorm((power_z * se - abs(theta)) / sqrt(se^2 + tau2))
  ss <- sum(p_study < 0.05)
  esig <- sum(power)
  z_tess <- ((ss - esig) / k - 0.05) / sqrt(0.05 * 0.95 / k)
  pe <- esig / k
  z_psst <- (ss / k - pe) / sqrt(pe * (1 - pe) / k)
  p_tess <- 1 - pnorm(z_tess)
  p_psst <- 1 - pnorm(z_psst)
  c(esb_observed = ss, esb_expected = esig, esb_z_tess = z_tess, esb_p_tess = p_tess,
    esb_z_psst = z_psst, esb_p_psst = p_psst, esb_p = min(p_tess, p_psst), esb_z = max(z_tess, z_psst))
}

# One factor: yi, vi (analysis scale), n_total (for the largest study), the ESB inputs, rob (or NULL)
analyse <- function(yi, vi, n_total, esb_y, esb_se, esb_pstudy, rob) {
  k <- length(yi)
  m <- rma(yi, vi, method = "REML")
  est <- as.numeric(m$b)
  se <- m$se
  tau2 <- m$tau2
  q <- m$QE
  i2_q <- 100 * max(0, (q - (k - 1)) / q)
  pi_half <- qt(0.975, k - 1) * sqrt(se^2 + tau2)
  eg <- if (k >= 3) regtest(m, model = "lm", predictor = "sei") else list(zval = NA_real_, pval = NA_real_)
  # largest study: max n, ties broken by the smaller |yi|
  idx <- order(-n_total, abs(yi))[1]
  l1o <- leave1out(m)
  rob_low <- if (is.null(rob)) NA_real_ else {
    ok <- !is.na(rob) & rob != ""
    w <- 1 / (vi[ok] + tau2)
    100 * sum(w * (rob[ok] == "low")) / sum(w)
  }
  c(k = k, estimate = est, se = se, ci_lower = m$ci.lb, ci_upper = m$ci.ub, p_value = m$pval,
    tau2 = tau2, q = q, i2_q = i2_q, pi_lower = est - pi_half, pi_upper = est + pi_half,
    egger_t = eg$zval, egger_p = eg$pval,
    esb_test(esb_y, esb_se, esb_pstudy, tau2),
    largest_ci_lower = yi[idx] - z975 * sqrt(vi[idx]), largest_ci_upper = yi[idx] + z975 * sqrt(vi[idx]),
    jk_max_p = max(l1o$pval), rob_low_pct = rob_low)
}

read_sheet <- function(name) read.csv(file.path(input_dir, paste0("metaumbrella_df.", name, ".csv")),
                                      stringsAsFactors = FALSE)
rows <- list()
add_row <- function(dataset, factor, convention, res) {
  rows[[length(rows) + 1]] <<- data.frame(dataset = dataset, factor = factor, convention = convention,
                                          t(res), check.names = FALSE, stringsAsFactors = FALSE)
}
notes <- character()

# ---- OR ----
or <- read_sheet("OR")
for (f in unique(or$factor)) {
  s <- or[or$factor == f, ]
  cells <- with(s, cbind(n_cases_exp, n_controls_exp, n_cases_nexp, n_controls_nexp))
  if (any(cells == 0)) notes <- c(notes, sprintf("OR %s: zero cells (escalc adds 0.5)", f))
  es <- escalc("OR", ai = s$n_cases_exp, bi = s$n_controls_exp, ci = s$n_cases_nexp, di = s$n_controls_nexp)
  yi <- as.numeric(es$yi); vi <- as.numeric(es$vi); sei <- sqrt(vi)
  add_row("OR", f, "2x2",
          analyse(yi, vi, s$n_cases + s$n_controls, yi, sei, 2 * pnorm(-abs(yi / sei)),
                  if ("rob" %in% names(s)) s$rob else NULL))
}

# ---- RR ----
rr <- read_sheet("RR")
for (f in unique(rr$factor)) {
  s <- rr[rr$factor == f, ]
  cells <- with(s, cbind(n_cases_exp, n_exp - n_cases_exp, n_cases_nexp, n_nexp - n_cases_nexp))
  if (any(cells == 0)) notes <- c(notes, sprintf("RR %s: zero cells (escalc adds 0.5)", f))
  es <- escalc("RR", ai = s$n_cases_exp, n1i = s$n_exp, ci = s$n_cases_nexp, n2i = s$n_nexp)
  yi <- as.numeric(es$yi); vi <- as.numeric(es$vi); sei <- sqrt(vi)
  add_row("RR", f, "2x2",
          analyse(yi, vi, s$n_exp + s$n_nexp, yi, sei, 2 * pnorm(-abs(yi / sei)),
                  if ("rob" %in% names(s)) s$rob else NULL))
}

# ---- SMD ----
smd <- read_sheet("SMD")
for (f in unique(smd$factor)) {
  s <- smd[smd$factor == f, ]
  n1 <- s$n_cases; n2 <- s$n_controls
  J <- hedges_j(n1 + n2 - 2)
  se_d <- sqrt(1 / n1 + 1 / n2)
  rob <- if ("rob" %in% names(s)) s$rob else NULL
  # escalc convention: Hedges' g from the means and SDs
  es <- escalc("SMD", m1i = s$mean_cases, sd1i = s$sd_cases, n1i = n1,
               m2i = s$mean_controls, sd2i = s$sd_controls, n2i = n2)
  yi <- as.numeric(es$yi); vi <- as.numeric(es$vi)
  d <- yi / J
  add_row("SMD", f, "escalc",
          analyse(yi, vi, n1 + n2, d, se_d, 2 * pt(-abs(d / se_d), n1 + n2 - 2), rob))
  # metaumbrella convention: the sheet's Cohen's d and SE, converted to g
  g <- J * s$value; se_g <- J * s$se
  d <- s$value
  add_row("SMD", f, "metaumbrella",
          analyse(g, se_g^2, n1 + n2, d, se_d, 2 * pt(-abs(d / se_d), n1 + n2 - 2), rob))
}

out <- do.call(rbind, rows)
num <- vapply(out, is.numeric, logical(1))
out[num] <- lapply(out[num], signif, digits = 15)
dir.create(dirname(out_file), showWarnings = FALSE, recursive = TRUE)
write.csv(out, out_file, row.names = FALSE)
cat("wrote", out_file, "(", nrow(out), "rows )\n")
if (length(notes)) cat(notes, sep = "\n")
