# Looped metafor reference for benchmarks/bench_pool.py (not a test; needs R + metafor + jsonlite).
#
#   Rscript benchmarks/bench_metafor.R Y.csv V.csv OUT.json N_TIMED N_TIGHT
#
# Y.csv, V.csv: one analysis per row (no header), estimates and sampling variances.
# Times rma(method = "REML", test = "knha") + confint() (Q-profile) + predict() over the
# first N_TIMED analyses with metafor's default controls (system.time, elapsed seconds), and
# refits the first N_TIGHT with tight convergence for the numerical comparison:
# rma(..., control = list(threshold = 1e-12, maxiter = 1000)),
# confint(..., control = list(tol = 1e-12, maxiter = 1000, tau2.max = 1e6)).
suppressPackageStartupMessages({library(metafor); library(jsonlite)})
args <- commandArgs(trailingOnly = TRUE)
Y <- as.matrix(read.csv(args[1], header = FALSE)); V <- as.matrix(read.csv(args[2], header = FALSE))
n_timed <- as.integer(args[4]); n_tight <- as.integer(args[5])

one <- function(i, ctrl, ci_ctrl) {
  y <- Y[i, ]; v <- V[i, ]; k <- length(y)
  out <- tryCatch({
    fit <- rma(y, v, method = "REML", test = "knha", control = ctrl)
    ci <- confint(fit, control = ci_ctrl)$random["tau^2", ]
    pr <- predict(fit)  # metafor's own PI: t(k-1) under knha
    se_wald <- sqrt(1 / sum(1 / (v + fit$tau2)))
    half <- qt(0.975, k - 2) * sqrt(fit$tau2 + se_wald^2)  # Higgins et al. 2009, t(k-2)
    c(fit$beta, fit$se, fit$tau2, ci[["ci.lb"]], ci[["ci.ub"]], fit$beta - half, fit$beta + half,
      pr$pi.lb, pr$pi.ub)
  }, error = function(e) rep(NA_real_, 9))
  out
}
elapsed <- system.time(res_default <- t(sapply(seq_len(n_timed), one, ctrl = list(), ci_ctrl = list())))[["elapsed"]]
res_tight <- t(sapply(seq_len(n_tight), one, ctrl = list(threshold = 1e-12, maxiter = 1000),
                      ci_ctrl = list(tol = 1e-12, maxiter = 1000, tau2.max = 1e6)))
cols <- c("est", "se", "tau2", "tau2_ci_low", "tau2_ci_high", "pi_low_hts", "pi_high_hts",
          "pi_low_metafor", "pi_high_metafor")
num <- function(m) lapply(cols, function(j) structure(paste0("[", paste(ifelse(is.finite(m[, j == cols]),
  sprintf("%.17g", m[, j == cols]), "null"), collapse = ","), "]"), class = "json"))
out <- list(r_version = R.version.string, metafor_version = as.character(packageVersion("metafor")),
            n_timed = n_timed, elapsed_s = elapsed, n_tight = n_tight,
            calls = "rma(y, v, method='REML', test='knha') + confint(fit) + predict(fit)",
            default = setNames(num(res_default), cols), tight = setNames(num(res_tight), cols))
writeLines(toJSON(out, auto_unbox = TRUE, json_verbatim = TRUE), args[3])
