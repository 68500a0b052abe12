# Reference numbers for trialmeta's network meta-analysis (src/trialmeta/stats/nma*.py).
#   Rscript tests/data/nma/metafor_nma.R        (from the repository root; writes tests/data/nma/reference.json)
# The contrast-based consistency model exactly as metadat's help pages for dat.senn2013 and
# dat.hasselblad1998 fit it: each study's contrasts against its first arm (to.wide(ref=)), the
# multi-arm covariance (the shared arm's variance), and
#   rma.mv(yi, V, mods = ~ <treatment columns> - 1, random = ~ comp | study, rho = 1/2)
# (a common tau^2, correlation 1/2 between two contrasts of one study). Common effect: no random term.
# Inputs (yi, V) are written beside the results so the Python tests use exactly R's contrasts.
suppressPackageStartupMessages({library(metafor); library(metadat); library(jsonlite)})
CTRL <- list(optimizer = "optim", optmethod = "BFGS", reltol = 1e-14, maxit = 10000)

contrasts_of <- function(dat, grp, vars, ref, measure, shared_var) {
  w <- to.wide(dat, study = "study", grp = grp, ref = ref, grpvars = vars)
  w <- if (measure == "MD") escalc(measure = "MD", m1i = mi.1, sd1i = sdi.1, n1i = ni.1, m2i = mi.2, sd2i = sdi.2, n2i = ni.2, data = w)
       else escalc(measure = "OR", ai = xi.1, n1i = ni.1, ci = xi.2, n2i = ni.2, add = 1/2, to = "all", data = w)
  V <- bldiag(lapply(split(w, w$study), function(x) { v <- matrix(shared_var(x), nrow(x), nrow(x)); diag(v) <- x$vi; v }))
  list(w = w, V = V)
}

fit_all <- function(name, w, V, t1, t2, treatments, ref, call) {
  w$t1 <- as.character(w[[t1]]); w$t2 <- as.character(w[[t2]])
  w <- contrmat(w, grp1 = t1, grp2 = t2)
  others <- setdiff(treatments, ref)
  f <- as.formula(paste("~", paste(others, collapse = " + "), "- 1"))
  ce <- rma.mv(yi, V, mods = f, data = w, control = CTRL)
  re <- rma.mv(yi, V, mods = f, random = ~ comp | study, rho = 1/2, data = w, control = CTRL)
  ret <- rma.mv(yi, V, mods = f, random = ~ comp | study, rho = 1/2, data = w, test = "t", control = CTRL)
  # every pair (league table): a - b for a before b in `others`, then each vs the reference
  pairs <- t(combn(c(others, ref), 2))
  L <- t(apply(pairs, 1, function(p) { x <- setNames(numeric(length(others)), others)
    if (p[1] != ref) x[p[1]] <- 1; if (p[2] != ref) x[p[2]] <- x[p[2]] - 1; x }))
  pr <- predict(re, newmods = L)
  prc <- predict(ce, newmods = L)
  # the generalised Q at the REML tau^2 (HKSJ-type scale factor = Q / (N - p))
  r <- as.numeric(w$yi - model.matrix(re) %*% coef(re))
  q_tau <- as.numeric(t(r) %*% solve(re$M) %*% r)
  # Krahn 2013: each design (set of treatments of a study) fitted alone, all its contrasts free; QE within it
  trt_of <- split(c(w$t1, w$t2), c(w$study, w$study))
  design <- sapply(trt_of, function(x) paste(sort(unique(x)), collapse = ":"))
  w$design <- design[as.character(w$study)]
  qdes <- lapply(sort(unique(design)), function(d) {
    rows <- which(w$design == d); trts <- strsplit(d, ":")[[1]]
    X <- as.matrix(as.data.frame(w)[rows, trts[-1], drop = FALSE])
    if (length(rows) <= ncol(X)) return(list(design = d, QE = 0, df = 0))
    fd <- rma.mv(w$yi[rows], V[rows, rows, drop = FALSE], mods = X, intercept = FALSE)
    list(design = d, QE = fd$QE, df = fd$k - fd$p)
  })
  # the random-effects between-designs Q (Krahn 2013; Higgins 2012): the consistency model and the full
  # design-by-treatment interaction model (each design its own effects, columns = the design's treatments but
  # its first) fitted at the consistency model's REML tau^2, held fixed, as fixed-effects rma.mv on V + tau^2 M
  # (M: 1 on the diagonal, 1/2 within a study); Q = QE(consistency) - QE(interaction)
  M <- outer(w$study, w$study, "==") * 1/2 + diag(nrow(w)) / 2
  Vt <- V + re$tau2 * M
  Xinc <- do.call(cbind, lapply(sort(unique(design)), function(d) { trts <- strsplit(d, ":")[[1]]
    sapply(trts[-1], function(t) w[[t]] * (w$design == d)) }))
  cons_t <- rma.mv(yi, Vt, mods = f, data = w)
  inc_t <- rma.mv(w$yi, Vt, mods = Xinc, intercept = FALSE)
  # the same with rma.mv's random term and tau2 fixed (tau2 =, rho = 1/2): residual Q in the marginal covariance
  qfix <- function(m) { r <- as.numeric(m$yi - model.matrix(m) %*% coef(m)); as.numeric(t(r) %*% solve(m$M) %*% r) }
  cons_f <- rma.mv(yi, V, mods = f, random = ~ comp | study, rho = 1/2, tau2 = re$tau2, data = w)
  inc_f <- rma.mv(yi, V, mods = Xinc, intercept = FALSE, random = ~ comp | study, rho = 1/2, tau2 = re$tau2, data = w)
  q_inc_random <- cons_t$QE - inc_t$QE
  stopifnot(abs(q_inc_random - (qfix(cons_f) - qfix(inc_f))) < 1e-9)
  # P-scores as on the help page of dat.senn2013 (Rücker & Schwarzer 2015), larger effects ranked better
  cp <- contrmat(data.frame(t(combn(c(others, ref), 2))), "X1", "X2", last = ref, append = FALSE)
  b <- c(coef(re), 0); vb <- bldiag(vcov(re), 0)
  pv <- apply(cp, 1, function(x) pnorm((x %*% b) / sqrt(t(x) %*% vb %*% x)))
  tab <- vec2mat(pv, corr = FALSE); tab[upper.tri(tab)] <- t((1 - tab)[upper.tri(tab)])
  psc <- apply(tab, 1, mean, na.rm = TRUE)
  list(name = name, call = call, reference = ref, treatments = others, designs = qdes,
       q_between_random = list(tau2 = re$tau2, Q = q_inc_random, df = inc_t$p - cons_t$p,
                               call = "M <- 1/2 within a study, 1 on the diagonal; Vt <- V + re$tau2 * M; rma.mv(yi, Vt, mods = <consistency>)$QE - rma.mv(yi, Vt, mods = <design-by-treatment columns>, intercept = FALSE)$QE; equal (1e-9) to the residual Q of rma.mv(..., random = ~ comp | study, rho = 1/2, tau2 = re$tau2) for both models"),
       pscores = as.list(setNames(as.numeric(psc), colnames(cp))),
       contrasts = lapply(seq_len(nrow(w)), function(i) list(study = as.character(w$study[i]), treat1 = w$t1[i], treat2 = w$t2[i], yi = as.numeric(w$yi[i]))),
       V = unname(as.matrix(V)),
       common = list(beta = as.numeric(coef(ce)), se = as.numeric(ce$se), QE = ce$QE, QEdf = ce$k - ce$p,
                     pairs = unname(pairs), pair_pred = as.numeric(prc$pred), pair_se = as.numeric(prc$se)),
       random = list(beta = as.numeric(coef(re)), se = as.numeric(re$se), ci_lb = as.numeric(re$ci.lb), ci_ub = as.numeric(re$ci.ub),
                     tau2 = re$tau2, logLik = as.numeric(logLik(re)), pair_pred = as.numeric(pr$pred), pair_se = as.numeric(pr$se),
                     pi_lb = as.numeric(pr$pi.lb), pi_ub = as.numeric(pr$pi.ub),
                     t_ci_lb = as.numeric(ret$ci.lb), t_ci_ub = as.numeric(ret$ci.ub), t_df = ret$k - ret$p,
                     q_at_tau2 = q_tau))
}

# Senn 2013: mean differences in HbA1c, placebo as reference (help page of dat.senn2013)
d <- dat.senn2013[c(1, 4:2, 5:6)]
s <- contrasts_of(d, "treatment", 4:6, "placebo", "MD", function(x) x$sdi.2[1]^2 / x$ni.2[1])
senn <- fit_all("senn2013", s$w, s$V, "treatment.1", "treatment.2", sort(unique(d$treatment)), "placebo",
  "to.wide(ref='placebo'); escalc('MD'); V: shared arm sd^2/n; rma.mv(yi, V, mods = ~ acarbose + ... + vildagliptin - 1, random = ~ comp | study, rho = 1/2)")

# Hasselblad 1998: log odds ratios of smoking cessation, no contact as reference (help page of dat.hasselblad1998)
h <- contrasts_of(dat.hasselblad1998, "trt", 6:7, "no_contact", "OR",
                  function(x) 1/(x$xi.2[1] + 1/2) + 1/(x$ni.2[1] - x$xi.2[1] + 1/2))
hass <- fit_all("hasselblad1998", h$w, h$V, "trt.1", "trt.2", c("no_contact", "self_help", "ind_counseling", "grp_counseling"),
  "no_contact", "to.wide(ref='no_contact'); escalc('OR', add = 1/2, to = 'all'); V: shared arm 1/(x+1/2) + 1/(n-x+1/2); rma.mv(yi, V, mods = ~ self_help + ind_counseling + grp_counseling - 1, random = ~ comp | study, rho = 1/2)")

# Dogliotti 2014: log odds ratios of stroke, placebo/control as reference, same recipe as Hasselblad
g <- dat.dogliotti2014; g$treatment <- make.names(g$treatment); names(g)[names(g) == "stroke"] <- "xi"; names(g)[names(g) == "total"] <- "ni"
g <- g[c("study", "treatment", "xi", "ni")]
dg <- contrasts_of(g, "treatment", 3:4, "Placebo.Control", "OR", function(x) 1/(x$xi.2[1] + 1/2) + 1/(x$ni.2[1] - x$xi.2[1] + 1/2))
dog <- fit_all("dogliotti2014", dg$w, dg$V, "treatment.1", "treatment.2", sort(unique(g$treatment)), "Placebo.Control",
  "same recipe as hasselblad1998 on dat.dogliotti2014 (stroke/total), ref 'Placebo/Control' (make.names)")

# Two-treatment network: the generalised DL must equal the univariate DL (identity check)
two <- subset(s$w, treatment.1 == "metformin")
dl2 <- rma(yi, vi, data = two, method = "DL")
re2 <- rma(yi, vi, data = two, method = "REML", control = list(threshold = 1e-12, maxiter = 1000))
twoarm <- list(call = "rma(yi, vi, method = 'DL' / 'REML') on the metformin vs placebo contrasts of dat.senn2013",
               study = as.character(two$study), yi = as.numeric(two$yi), vi = as.numeric(two$vi),
               dl_tau2 = dl2$tau2, dl_beta = as.numeric(dl2$beta), dl_se = dl2$se, reml_tau2 = re2$tau2, reml_beta = as.numeric(re2$beta), reml_se = re2$se, QE = dl2$QE)

out <- list(R = R.version.string, metafor = as.character(packageVersion("metafor")), metadat = as.character(packageVersion("metadat")),
            control = "rma.mv control = list(optimizer = \"optim\", optmethod = \"BFGS\", reltol = 1e-14, maxit = 10000): the default nlminb stops short on hasselblad1998 (tau^2 0.4323614479 vs 0.4323618921 here, with a lower restricted logLik, -28.700596464945 vs -28.700596464941); BFGS and nlm agree to 1e-8",
            networks = list(senn, hass, dog), twoarm = twoarm,
            arms = list(senn2013 = dat.senn2013[c("study", "treatment", "mi", "sdi", "ni")],
                        hasselblad1998 = dat.hasselblad1998[c("study", "trt", "xi", "ni")]))
writeLines(toJSON(out, digits = I(17), auto_unbox = TRUE, pretty = TRUE), "tests/data/nma/reference.json")
