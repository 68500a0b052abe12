# Reference numbers for tests/synthesis/test_double_zero.py (issue 21): studies with no events in either arm.
#   Rscript tests/data/issue21/double_zero.R      (from the repository root)
# metadat's dat.hahn2001 (12 trials, 3 with no events in either arm). RR and OR by inverse variance,
# rma(method = "REML", test = "knha"), on escalc(drop00 = TRUE) (the double-zero studies not estimable:
# the RevMan / R meta convention) and on escalc(drop00 = FALSE) (metafor's default: 0.5 added to every cell);
# RD keeps them (escalc default). Written to double_zero.json with the calls and versions.
suppressPackageStartupMessages({library(metafor); library(metadat); library(jsonlite)})
dir <- "tests/data/issue21"
CTRL <- list(threshold = 1e-12, maxiter = 1000, tol = 1e-12)
d <- dat.hahn2001
fit <- function(measure, drop00) {
  es <- escalc(measure, ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = d, drop00 = drop00)
  f <- rma(yi, vi, data = es, method = "REML", test = "knha", control = CTRL)
  list(measure = measure, drop00 = drop00, k = f$k, beta = as.numeric(f$beta), ci_lb = f$ci.lb, ci_ub = f$ci.ub,
       tau2 = f$tau2, QE = f$QE)
}
out <- list(
  R = R.version.string, metafor = as.character(packageVersion("metafor")),
  metadat = as.character(packageVersion("metadat")),
  call = "rma(escalc(measure, ai, n1i, ci, n2i, data = dat.hahn2001, drop00 = <drop00>), method = 'REML', test = 'knha')",
  inputs = list(study = as.character(d$study), events_exp = d$ai, n_exp = d$n1i, events_ctrl = d$ci, n_ctrl = d$n2i),
  fits = list(fit("RR", TRUE), fit("RR", FALSE), fit("OR", TRUE), fit("OR", FALSE), fit("RD", FALSE)))
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE), file.path(dir, "double_zero.json"))
