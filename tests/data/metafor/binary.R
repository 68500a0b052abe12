# Regenerate tests/data/metafor/binary_reference.json: metafor reference numbers for trialmeta's effect
# measures (escalc) and its Mantel-Haenszel, Peto and inverse-variance pooling of counts and means, on real
# datasets shipped with metafor/metadat, at full precision (%.17g), with the R/metafor versions and calls.
#
#   Rscript tests/data/metafor/binary.R            (from the repository root)
#
# Needs R with metafor (which loads metadat) and jsonlite. The tests only read the JSON; they never need R.
suppressPackageStartupMessages({library(metafor); library(jsonlite)})

CTRL <- list(threshold = 1e-12, maxiter = 1000, tol = 1e-12, tau2.max = 1e6)
num <- function(x) {
  x <- as.numeric(x)
  structure(ifelse(is.finite(x), sprintf("%.17g", x), "null"), class = "json")
}
arr <- function(x) structure(paste0("[", paste(num(x), collapse = ","), "]"), class = "json")

bcg <- dat.bcg
yus <- subset(dat.yusuf1985, table == "9" & !is.na(ai))
col <- subset(dat.collins1985a, !is.na(d.xti))
binary <- list(
  list(id = "dat.bcg", source = "metafor::dat.bcg (Colditz et al. 1994): BCG vaccine, tuberculosis cases",
       select = "all 13 trials; ai = tpos, n1i = tpos + tneg, ci = cpos, n2i = cpos + cneg",
       study = as.character(bcg$author), ai = bcg$tpos, n1i = bcg$tpos + bcg$tneg, ci = bcg$cpos,
       n2i = bcg$cpos + bcg$cneg),
  list(id = "dat.yusuf1985-table9", source = "metadat::dat.yusuf1985 (Yusuf et al. 1985), table 9",
       select = "subset(dat.yusuf1985, table == '9' & !is.na(ai)) (studies with zero cells)",
       study = yus$trial, ai = yus$ai, n1i = yus$n1i, ci = yus$ci, n2i = yus$n2i),
  list(id = "dat.collins1985a-deaths", source = "metadat::dat.collins1985a (Collins et al. 1985): deaths",
       select = "subset(dat.collins1985a, !is.na(d.xti)); ai = d.xti, n1i = nti, ci = d.xci, n2i = nci (zero and double-zero studies)",
       study = col$trial, ai = col$d.xti, n1i = col$nti, ci = col$d.xci, n2i = col$nci))

fit_iv <- function(yi, vi, method, test) {
  fit <- suppressWarnings(rma(yi, vi, method = method, test = test, level = 95, control = CTRL))
  list(method = method, test = test, beta = num(fit$beta), se = num(fit$se), ci_lb = num(fit$ci.lb),
       ci_ub = num(fit$ci.ub), pval = num(fit$pval), tau2 = num(fit$tau2), QE = num(fit$QE),
       QEp = num(fit$QEp), I2 = num(fit$I2))
}
IV <- list(c("FE", "z"), c("DL", "z"), c("REML", "knha"))
pooled <- function(fit) list(beta = num(fit$beta), se = num(fit$se), ci_lb = num(fit$ci.lb),
                             ci_ub = num(fit$ci.ub), zval = num(fit$zval), pval = num(fit$pval),
                             QE = num(fit$QE), QEp = num(fit$QEp), I2 = num(fit$I2), H2 = num(fit$H2),
                             k = fit$k, k_yi = fit$k.yi)

out_bin <- lapply(binary, function(d) {
  measures <- lapply(c("RR", "OR", "RD"), function(m) {
    es <- escalc(measure = m, ai = d$ai, n1i = d$n1i, ci = d$ci, n2i = d$n2i)
    mh <- rma.mh(measure = m, ai = d$ai, n1i = d$n1i, ci = d$ci, n2i = d$n2i, level = 95)
    list(measure = m, yi = arr(es$yi), vi = arr(es$vi),
         iv = lapply(IV, function(x) fit_iv(es$yi, es$vi, x[1], x[2])), mh = pooled(mh))
  })
  pe <- escalc(measure = "PETO", ai = d$ai, n1i = d$n1i, ci = d$ci, n2i = d$n2i)
  peto <- rma.peto(ai = d$ai, n1i = d$n1i, ci = d$ci, n2i = d$n2i, level = 95)
  list(id = d$id, source = d$source, select = d$select, study = d$study, ai = d$ai, n1i = d$n1i,
       ci = d$ci, n2i = d$n2i, measures = measures,
       peto = c(list(yi = arr(pe$yi), vi = arr(pe$vi)), pooled(peto)))
})

nor <- dat.normand1999
out_cont <- list(list(
  id = "dat.normand1999", source = "metafor::dat.normand1999 (Normand 1999): length of hospital stay, stroke units",
  study = nor$source, m1i = nor$m1i, sd1i = nor$sd1i, n1i = nor$n1i, m2i = nor$m2i, sd2i = nor$sd2i,
  n2i = nor$n2i,
  measures = lapply(c("MD", "SMD"), function(m) {
    es <- escalc(measure = m, m1i = nor$m1i, sd1i = nor$sd1i, n1i = nor$n1i, m2i = nor$m2i,
                 sd2i = nor$sd2i, n2i = nor$n2i)
    list(measure = m, yi = arr(es$yi), vi = arr(es$vi),
         iv = lapply(IV, function(x) fit_iv(es$yi, es$vi, x[1], x[2])))
  })))

calls <- list(
  escalc = "escalc(measure = M, ai, n1i, ci, n2i) (defaults add = 1/2, to = 'only0', drop00 = FALSE); escalc(measure = M, m1i, sd1i, n1i, m2i, sd2i, n2i) (vtype = 'LS')",
  iv = "rma(yi, vi, method = METHOD, test = TEST, level = 95, control = list(threshold = 1e-12, maxiter = 1000, tol = 1e-12, tau2.max = 1e6))",
  mh = "rma.mh(measure = M, ai, n1i, ci, n2i, level = 95) (defaults add = 1/2, to = 'only0', drop00 = TRUE)",
  peto = "rma.peto(ai, n1i, ci, n2i, level = 95); escalc(measure = 'PETO', ...)")
out <- list(source = list(generated_by = "tests/data/metafor/binary.R", r_version = R.version.string,
                          metafor_version = as.character(packageVersion("metafor")),
                          metadat_version = as.character(packageVersion("metadat")),
                          jsonlite_version = as.character(packageVersion("jsonlite")),
                          number_format = "%.17g", calls = calls),
            binary = out_bin, continuous = out_cont)
here <- dirname(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE)))
path <- file.path(here, "binary_reference.json")
writeLines(toJSON(out, auto_unbox = TRUE, json_verbatim = TRUE, pretty = TRUE, digits = NA), path)
cat("wrote", path, "\n")
