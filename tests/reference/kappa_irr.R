# Reference numbers for Cohen's and Fleiss' kappa (workflow/scripts/umbrella/extract/agreement.py), computed
# with the irr package's kappa2 and kappam.fleiss. tests/test_agreement.py holds the numbers this script
# prints, each next to the line that gave it.
#
# irr is on CRAN, not in Debian: install it from its CRAN source (it needs lpSolve), e.g.
#   R CMD INSTALL -l /tmp/rlib irr_0.84.1.tar.gz
# Run from the repository root:
#   R_LIBS=/tmp/rlib Rscript tests/reference/kappa_irr.R
#
# Run with: R version 4.2.2 Patched (2022-11-10 r83330), irr 0.84.1
# (the script prints R.version.string and packageVersion("irr") when it runs).

suppressPackageStartupMessages(library(irr))
cat(R.version.string, "\n")
cat("irr", as.character(packageVersion("irr")), "\n")

# Cohen's kappa, Wikipedia's worked example: 50 items, 20 yes/yes, 5 yes/no, 10 no/yes, 15 no/no
a <- c(rep("yes", 25), rep("no", 25))
b <- c(rep("yes", 20), rep("no", 5), rep("yes", 10), rep("no", 15))
cat(sprintf("kappa2 wikipedia            %.15f\n", kappa2(cbind(a, b))$value))

# Fleiss (1971): psychiatric diagnoses of 30 patients by 6 raters (irr's `diagnoses` data)
data(diagnoses)
d <- as.matrix(data.frame(lapply(diagnoses, as.character)))
cat(sprintf("kappa2 diagnoses raters 1,2 %.15f\n", kappa2(d[, 1:2])$value))
cat(sprintf("kappam.fleiss diagnoses     %.15f\n", kappam.fleiss(d)$value))
cat(sprintf("kappam.fleiss diagnoses 1-3 %.15f\n", kappam.fleiss(d[, 1:3])$value))

# Fleiss' kappa, Wikipedia's worked example: 10 items, 14 raters, 5 categories (raters per category and item)
counts <- matrix(c(0,0,0,0,14, 0,2,6,4,2, 0,0,3,5,6, 0,3,9,2,0, 2,2,8,1,1,
                   7,7,0,0,0, 3,2,6,3,0, 2,5,3,2,2, 6,5,2,1,0, 0,2,2,3,7), ncol = 5, byrow = TRUE)
r <- t(apply(counts, 1, function(n) rep(1:5, n)))
cat(sprintf("kappam.fleiss wikipedia     %.15f\n", kappam.fleiss(r)$value))
