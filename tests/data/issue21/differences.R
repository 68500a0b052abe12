# Reference numbers for tests/stats/test_difference_scale.py (issue 21): two difference measures, k = 2.
#   Rscript tests/data/issue21/differences.R      (from the repository root)
# Inputs: the first two studies of metadat's dat.laopaiboon2015 (risk difference from the 2x2 counts) and of
# dat.curtis1998 (mean difference from means, SDs and ns). Written to differences.json with the R call, versions.
suppressPackageStartupMessages({library(metafor); library(metadat); library(jsonlite)})
dir <- "tests/data/issue21"
CTRL <- list(threshold = 1e-12, maxiter = 1000, tol = 1e-12)
one <- function(name, es, call) {
  knha <- rma(yi, vi, data = es, method = "REML", test = "knha", control = CTRL)
  z <- rma(yi, vi, data = es, method = "REML", test = "z", control = CTRL)
  list(name = name, call = call, yi = as.numeric(es$yi), vi = as.numeric(es$vi),
       beta = as.numeric(knha$beta), se_knha = knha$se, ci_lb = knha$ci.lb, ci_ub = knha$ci.ub,
       tau2 = knha$tau2, I2 = knha$I2, H2 = knha$H2, QE = knha$QE,
       wald_ci_lb = z$ci.lb, wald_ci_ub = z$ci.ub)
}
lao <- dat.laopaiboon2015[1:2, ]
curtis <- dat.curtis1998[1:2, ]
out <- list(
  R = R.version.string, metafor = as.character(packageVersion("metafor")),
  metadat = as.character(packageVersion("metadat")),
  cases = list(
    one("laopaiboon2015-RD", escalc("RD", ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = lao),
        "rma(escalc('RD', ai, n1i, ci, n2i, data = dat.laopaiboon2015[1:2, ]), method = 'REML', test = 'knha' | 'z')"),
    one("curtis1998-MD", escalc("MD", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i, n2i = n2i, data = curtis),
        "rma(escalc('MD', m1i, sd1i, n1i, m2i, sd2i, n2i, data = dat.curtis1998[1:2, ]), method = 'REML', test = 'knha' | 'z')"),
    one("curtis1998-SMD", escalc("SMD", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i, n2i = n2i, data = curtis),
        "rma(escalc('SMD', m1i, sd1i, n1i, m2i, sd2i, n2i, data = dat.curtis1998[1:2, ]), method = 'REML', test = 'knha' | 'z')")),
  inputs = list(
    laopaiboon2015 = list(study = lao$author, events_exp = lao$ai, n_exp = lao$n1i, events_ctrl = lao$ci, n_ctrl = lao$n2i),
    curtis1998 = list(study = paste(curtis$paper, curtis$id), mean_exp = curtis$m1i, sd_exp = curtis$sd1i,
                      n_exp = curtis$n1i, mean_ctrl = curtis$m2i, sd_ctrl = curtis$sd2i, n_ctrl = curtis$n2i)))
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE), file.path(dir, "differences.json"))
