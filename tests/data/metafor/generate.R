# Regenerate tests/data/metafor/reference.json: metafor reference numbers for trialmeta's
# pooling engine, at full precision (%.17g), with the R/metafor versions and every call.
#
#   Rscript tests/data/metafor/generate.R            (from the repository root)
#
# Needs R with metafor and jsonlite (Debian: r-cran-metafor r-cran-jsonlite). The tests
# only read the JSON; they never need R.
suppressPackageStartupMessages({library(metafor); library(jsonlite)})

SEED <- 20240611L
LEVEL <- 0.95
# Tight convergence: Fisher scoring (REML) to 1e-12, uniroot (PM, Q-profile) to 1e-12.
# tau2.max raised from metafor's default max(100, 10 tau2) so that no Q-profile upper
# bound or PM root is truncated (k = 2 upper bounds reach the thousands).
CTRL <- list(threshold = 1e-12, maxiter = 1000, tol = 1e-12, tau2.max = 1e6)
CI_CTRL <- list(tol = 1e-12, maxiter = 1000, tau2.max = 1e6)
CALLS <- list(
  fit = "rma(yi, vi, method = M, test = T, level = 95, control = list(threshold = 1e-12, maxiter = 1000, tol = 1e-12, tau2.max = 1e6))",
  tau2_ci = "confint(fit, level = 95, control = list(tol = 1e-12, maxiter = 1000, tau2.max = 1e6))$random['tau^2', c('ci.lb', 'ci.ub')]",
  pi_metafor = "predict(fit, level = 95)[c('pi.lb', 'pi.ub')] (z, or t(k-1) under knha/adhoc)",
  pi_hts = "fit$beta + c(-1, 1) * qt(0.975, k - 2) * sqrt(fit$tau2 + 1 / sum(1 / (vi + fit$tau2))) (Higgins, Thompson & Spiegelhalter 2009; k >= 3, not for FE)",
  se_wald = "sqrt(1 / sum(1 / (vi + fit$tau2)))",
  subgroup_fit = "the fit call on subset(dat, g == level)",
  q_between = "rma(yi = b, sei = s, method = 'FE')[c('QE', 'QEp')] on the subgroup estimates b with s = fit$se (se_used = 'test') or s = se_wald (se_used = 'wald')",
  moderator = "rma(yi, vi, mods = ~ factor(g), method = M, test = T, control = <as fit>)[c('QM', 'QMdf', 'QMp', 'tau2', 'QE', 'QEp')]")

num <- function(x) {  # full-precision JSON number (or null), verbatim
  x <- as.numeric(x)
  structure(ifelse(is.finite(x), sprintf("%.17g", x), "null"), class = "json")
}
arr <- function(x) structure(paste0("[", paste(num(x), collapse = ","), "]"), class = "json")

make_datasets <- function() {
  set.seed(SEED)
  out <- list()
  for (k in c(2, 3, 4, 5, 7, 10, 15, 20)) for (tau2 in c(0, 0.05, 0.5)) for (ratio in c(10, 1e4)) {
    vi <- exp(runif(k, log(0.01), log(0.01 * ratio)))
    vi[1:2] <- c(0.01, 0.01 * ratio)[1:min(2, k)]  # the stated variance ratio is attained
    vi <- sample(vi)
    yi <- rnorm(k, -0.3, sqrt(vi + tau2))
    g <- if (k >= 9) sample(rep(c("a", "b", "c"), length.out = k))
         else if (k >= 4) sample(rep(c("a", "b"), length.out = k)) else rep("a", k)
    out[[length(out) + 1]] <- list(id = sprintf("k%02d_tau%s_ratio%g", k, tau2, ratio),
                                   yi = yi, vi = vi, g = g, tau2_true = tau2, v_ratio = ratio)
  }
  bcg <- escalc(measure = "RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
  out[[length(out) + 1]] <- list(id = "bcg_alloc", yi = as.numeric(bcg$yi), vi = as.numeric(bcg$vi),
                                 g = as.character(dat.bcg$alloc), tau2_true = NA, v_ratio = NA)
  out
}

fit_record <- function(yi, vi, method, test) {
  fit <- suppressWarnings(rma(yi, vi, method = method, test = test, level = 95, control = CTRL))
  k <- length(yi)
  se_wald <- sqrt(1 / sum(1 / (vi + fit$tau2)))
  rec <- list(k = k, beta = num(fit$beta), se = num(fit$se), zval = num(fit$zval),
              pval = num(fit$pval), ci_lb = num(fit$ci.lb), ci_ub = num(fit$ci.ub),
              tau2 = num(fit$tau2), QE = num(fit$QE), QEp = num(fit$QEp), I2 = num(fit$I2),
              H2 = num(fit$H2), se_wald = num(se_wald),
              tau2_ci_lb = num(NA), tau2_ci_ub = num(NA), pi_lb_metafor = num(NA),
              pi_ub_metafor = num(NA), pi_lb_hts = num(NA), pi_ub_hts = num(NA))
  if (method != "FE") {
    ci <- confint(fit, level = 95, control = CI_CTRL)$random["tau^2", ]
    rec$tau2_ci_lb <- num(ci[["ci.lb"]]); rec$tau2_ci_ub <- num(ci[["ci.ub"]])
    pr <- predict(fit, level = 95)
    rec$pi_lb_metafor <- num(pr$pi.lb); rec$pi_ub_metafor <- num(pr$pi.ub)
    if (k >= 3) {
      half <- qt(1 - (1 - LEVEL) / 2, k - 2) * sqrt(fit$tau2 + se_wald^2)
      rec$pi_lb_hts <- num(fit$beta - half); rec$pi_ub_hts <- num(fit$beta + half)
    }
  }
  list(rec = rec, b = as.numeric(fit$beta), se = as.numeric(fit$se), se_wald = se_wald)
}

datasets <- make_datasets()
fits <- list(); qbs <- list(); mods <- list()
for (d in datasets) for (method in c("FE", "DL", "REML", "PM")) for (test in c("z", "knha", "adhoc")) {
  all <- fit_record(d$yi, d$vi, method, test)
  fits[[length(fits) + 1]] <- c(list(dataset = d$id, subset = "all", method = method, test = test), all$rec)
  levels_g <- unique(d$g)
  if (length(levels_g) < 2) next
  sub <- lapply(levels_g, function(l) fit_record(d$yi[d$g == l], d$vi[d$g == l], method, test))
  for (j in seq_along(levels_g))
    fits[[length(fits) + 1]] <- c(list(dataset = d$id, subset = levels_g[j], method = method, test = test), sub[[j]]$rec)
  b <- sapply(sub, `[[`, "b")
  for (se_used in c("test", "wald")) {
    s <- sapply(sub, `[[`, if (se_used == "test") "se" else "se_wald")
    qb <- rma(yi = b, sei = s, method = "FE")
    qbs[[length(qbs) + 1]] <- list(dataset = d$id, method = method, test = test, se_used = se_used,
                                   groups = levels_g, Q = num(qb$QE), df = length(b) - 1, p = num(qb$QEp))
  }
  m <- suppressWarnings(rma(d$yi, d$vi, mods = ~ factor(d$g), method = method, test = test, control = CTRL))
  mods[[length(mods) + 1]] <- list(dataset = d$id, method = method, test = test, QM = num(m$QM),
                                   QMdf = arr(m$QMdf[is.finite(m$QMdf)]), QMp = num(m$QMp),
                                   tau2 = num(m$tau2), QE = num(m$QE), QEp = num(m$QEp))
}
ds_json <- lapply(datasets, function(d) list(id = d$id, k = length(d$yi), yi = arr(d$yi), vi = arr(d$vi),
                                             g = d$g, tau2_true = num(d$tau2_true), v_ratio = num(d$v_ratio)))
out <- list(source = list(generated_by = "tests/data/metafor/generate.R", seed = SEED,
                          r_version = R.version.string,
                          metafor_version = as.character(packageVersion("metafor")),
                          jsonlite_version = as.character(packageVersion("jsonlite")),
                          level = LEVEL, number_format = "%.17g", calls = CALLS),
            datasets = ds_json, fits = fits, subgroup_tests = qbs, moderator_tests = mods)
here <- dirname(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE)))
path <- file.path(here, "reference.json")
writeLines(toJSON(out, auto_unbox = TRUE, json_verbatim = TRUE, pretty = FALSE), path)
# Oracle O12 input (MACH-NC, Pignon et al. Lancet 2000): metadat's dat.pignon2000, as shipped.
write.csv(metadat::dat.pignon2000, file.path(here, "pignon2000.csv"), row.names = FALSE)
cat(sprintf("wrote %s: %d datasets, %d fits, %d subgroup tests, %d moderator tests\n",
            path, length(datasets), length(fits), length(qbs), length(mods)))
