# metafor on the pooled groups of trials/analyses.yaml (inputs from export_analyses.py).
#   Rscript tests/data/metafor/analyses.R      (from the repository root)
suppressPackageStartupMessages({library(metafor); library(jsonlite)})
dir <- "tests/data/metafor"
groups <- fromJSON(file.path(dir, "analyses_input.json"), simplifyVector = FALSE)
CTRL <- list(threshold = 1e-12, maxiter = 1000, tol = 1e-12, tau2.max = 1e6)
num <- function(x) if (length(x) == 1 && is.finite(x)) sprintf("%.17g", x) else "null"
recs <- lapply(groups, function(g) {
  yi <- unlist(g$yi); sei <- unlist(g$sei); k <- length(yi)
  if (identical(g$pooling, "mh")) {  # Mantel-Haenszel risk ratio on the responder counts
    fit <- rma.mh(measure = "RR", ai = unlist(g$ai), n1i = unlist(g$n1i), ci = unlist(g$ci), n2i = unlist(g$n2i), level = 95)
    return(sprintf('{"analysis": "%s", "group": "%s", "k": %d, "pooling": "mh", "call": "rma.mh(measure = \\"RR\\", ai, n1i, ci, n2i, level = 95)", "beta": %s, "se": %s, "ci_lb": %s, "ci_ub": %s, "pval": %s, "tau2": null, "tau2_ci_lb": null, "tau2_ci_ub": null, "QE": %s, "QEp": %s, "I2": %s, "H2": %s, "pi_lb_hts": null, "pi_ub_hts": null}',
                   g$analysis, g$group, k, num(fit$beta), num(fit$se), num(fit$ci.lb), num(fit$ci.ub), num(fit$pval),
                   num(fit$QE), num(fit$QEp), num(fit$I2), num(fit$H2)))
  }
  fit <- suppressWarnings(rma(yi = yi, sei = sei, method = g$method, test = g$test, level = 95, control = CTRL))
  ci <- if (k >= 2) tryCatch(confint(fit, control = list(tol = 1e-12, maxiter = 1000, tau2.max = 1e6))$random["tau^2", c("ci.lb", "ci.ub")],
                             error = function(e) c(NA, NA)) else c(NA, NA)
  se_wald <- sqrt(1 / sum(1 / (sei^2 + fit$tau2)))
  pi <- if (k >= 3) as.numeric(fit$beta) + c(-1, 1) * qt(0.975, k - 2) * sqrt(fit$tau2 + se_wald^2) else c(NA, NA)
  # The PI trialmeta computes, as metafor spells it: predict(pi.type = "riley") on the same fit
  # with test = "z" (t(k - 2), Wald SE); and metafor's default predict() on the fit itself
  # (z, or t(k - 1) with the HKSJ-scaled SE under knha), which trialmeta does not use.
  zfit <- suppressWarnings(rma(yi = yi, sei = sei, method = g$method, test = "z", level = 95, control = CTRL))
  riley <- if (k >= 3) predict(zfit, pi.type = "riley") else list(pi.lb = NA, pi.ub = NA)
  dflt <- if (k >= 2) predict(fit) else list(pi.lb = NA, pi.ub = NA)
  # I² and H² (tau²-based for random effects, Q-based for FE) under REML, DL and PM
  het <- sapply(c("REML", "DL", "PM"), function(m) {
    f <- suppressWarnings(rma(yi = yi, sei = sei, method = m, test = g$test, level = 95, control = CTRL))
    sprintf('"%s": {"tau2": %s, "I2": %s, "H2": %s}', m, num(f$tau2), num(f$I2), num(f$H2))
  })
  # risk ratios pooled by random effects: the Mantel-Haenszel common effect of the sensitivity line
  mh <- if (!is.null(g$ai) && k >= 2) {
    m <- rma.mh(measure = "RR", ai = unlist(g$ai), n1i = unlist(g$n1i), ci = unlist(g$ci), n2i = unlist(g$n2i), level = 95)
    sprintf(', "mh_call": "rma.mh(measure = \\"RR\\", ai, n1i, ci, n2i, level = 95)", "mh_beta": %s, "mh_ci_lb": %s, "mh_ci_ub": %s',
            num(m$beta), num(m$ci.lb), num(m$ci.ub))
  } else ""
  sprintf('{"analysis": "%s", "group": "%s", "k": %d, "beta": %s, "se": %s, "ci_lb": %s, "ci_ub": %s, "pval": %s, "tau2": %s, "tau2_ci_lb": %s, "tau2_ci_ub": %s, "QE": %s, "QEp": %s, "I2": %s, "H2": %s, "pi_lb_hts": %s, "pi_ub_hts": %s, "pi_lb_riley_z": %s, "pi_ub_riley_z": %s, "pi_lb_predict_default": %s, "pi_ub_predict_default": %s, "by_method": {%s}%s}',
          g$analysis, g$group, k, num(fit$beta), num(fit$se), num(fit$ci.lb), num(fit$ci.ub), num(fit$pval),
          num(fit$tau2), num(ci[1]), num(ci[2]), num(fit$QE), num(fit$QEp), num(fit$I2), num(fit$H2),
          num(pi[1]), num(pi[2]), num(riley$pi.lb), num(riley$pi.ub), num(dflt$pi.lb), num(dflt$pi.ub),
          paste(het, collapse = ", "), mh)
})
meta <- sprintf('{"generated_by": "tests/data/metafor/analyses.R", "R": "%s", "metafor": "%s", "call": "rma(yi = yi, sei = sei, method = <method>, test = <test>, level = 95, control = list(threshold = 1e-12, maxiter = 1000, tol = 1e-12, tau2.max = 1e6)); confint(fit)$random[\\"tau^2\\", ]; fit$I2, fit$H2 and, under by_method, the same rma call with method = REML, DL, PM; pi_*_riley_z = predict(<the fit with test = \\"z\\">, pi.type = \\"riley\\"); pi_*_predict_default = predict(fit); PI = beta +/- qt(0.975, k - 2) * sqrt(tau2 + 1/sum(1/(vi + tau2)))", "groups": [\n%s\n]}',
                R.version.string, as.character(packageVersion("metafor")), paste(unlist(recs), collapse = ",\n"))
writeLines(meta, file.path(dir, "analyses_reference.json"))
cat("wrote", file.path(dir, "analyses_reference.json"), "\n")
