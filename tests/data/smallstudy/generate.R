# Reference numbers for tests/stats/test_smallstudy.py and tests/stats/test_metareg_influence.py:
# metafor regtest / ranktest / trimfill / leave1out / influence / baujat and rma(mods =, test = "knha")
# on real datasets from metadat. Run from the repository root:
#   Rscript tests/data/smallstudy/generate.R > tests/data/smallstudy/reference.json
suppressMessages({library(metafor); library(jsonlite)})
# metafor's default REML stopping rule (change in tau^2 < 1e-5) leaves tau^2 off by ~1e-6; converge fully, as
# tests/data/metafor/*.R do (regtest, influence, leave1out and baujat reuse the model's control; trimfill takes it).
CTRL <- list(threshold = 1e-12, maxiter = 1000, tol = 1e-12, tau2.max = 1e6)
num <- function(x) if (is.null(x)) NULL else unname(as.numeric(x))
rt <- function(r) list(zval = num(r$zval), pval = num(r$pval), ddf = num(r$ddf), est = num(r$est),
                       ci_lb = num(r$ci.lb), ci_ub = num(r$ci.ub))
tf <- function(r) list(k0 = r$k0, se_k0 = num(r$se.k0), side = r$side, p_k0 = num(r$p.k0), beta = num(r$beta),
                       se = num(r$se), ci_lb = num(r$ci.lb), ci_ub = num(r$ci.ub), tau2 = num(r$tau2),
                       yi_filled = num(r$yi[r$fill]), vi_filled = num(r$vi[r$fill]))
fit <- function(r) list(beta = num(r$beta), se = num(r$se), zval = num(r$zval), pval = num(r$pval),
                        ci_lb = num(r$ci.lb), ci_ub = num(r$ci.ub), tau2 = num(r$tau2), QE = num(r$QE),
                        QEp = num(r$QEp), QM = num(r$QM), QMp = num(r$QMp), I2 = num(r$I2), R2 = num(r$R2),
                        ddf = num(r$ddf))
infl <- function(r) { i <- influence(r); l <- if (r$int.only) leave1out(r) else list(); b <- baujat(r)
  list(rstudent = num(i$inf$rstudent), dffits = num(i$inf$dffits), cook_d = num(i$inf$cook.d),
       cov_r = num(i$inf$cov.r), tau2_del = num(i$inf$tau2.del), QE_del = num(i$inf$QE.del), hat = num(i$inf$hat),
       weight = num(i$inf$weight), dfbs = matrix(sapply(seq_len(r$p), function(j) i$dfbs[[j]]), ncol = r$p),
       influential = unname(i$is.infl),
       leave1out = list(estimate = num(l$estimate), se = num(l$se), pval = num(l$pval), ci_lb = num(l$ci.lb),
                        ci_ub = num(l$ci.ub), Q = num(l$Q), tau2 = num(l$tau2), I2 = num(l$I2)),
       baujat_x = num(b$x), baujat_y = num(b$y)) }
small <- function(r, ni = NULL) list(
  regtest_rma = rt(regtest(r)), regtest_lm = rt(regtest(r, model = "lm")),
  regtest_rma_vi = rt(regtest(r, predictor = "vi")),
  peters = if (is.null(ni)) NULL else rt(regtest(r, model = "lm", predictor = "ninv", ni = ni)),
  ranktest = list(tau = num(ranktest(r)$tau), pval = num(ranktest(r)$pval)),
  trimfill_L0 = tf(trimfill(r, control = CTRL)), trimfill_R0 = tf(trimfill(r, estimator = "R0", control = CTRL)))
pdf(NULL)  # baujat() draws

hack <- dat.hackshaw1998
h_reml <- rma(yi, vi, data = hack, control = CTRL)
h_knha <- rma(yi, vi, data = hack, test = "knha", control = CTRL)
h_dl <- rma(yi, vi, data = hack, method = "DL", control = CTRL)

mg <- escalc(measure = "OR", ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = dat.egger2001)
mg_reml <- rma(yi, vi, data = mg, control = CTRL)
peto <- escalc(measure = "PETO", ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = dat.egger2001, add = 0)

bcg <- escalc(measure = "RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
b_reml <- rma(yi, vi, data = bcg, control = CTRL)
b_knha <- rma(yi, vi, data = bcg, test = "knha", control = CTRL)

out <- list(
  source = list(R = R.version.string, metafor = as.character(packageVersion("metafor")),
                metadat = as.character(packageVersion("metadat")), script = "tests/data/smallstudy/generate.R"),
  hackshaw1998 = list(call = "rma(yi, vi, data = dat.hackshaw1998, control = CTRL), CTRL = list(threshold = 1e-12, maxiter = 1000, tol = 1e-12, tau2.max = 1e6) [REML, z]; test = 'knha'; method = 'DL'",
                      study = hack$author, yi = num(hack$yi), vi = num(hack$vi),
                      reml = small(h_reml), knha = small(h_knha), dl = small(h_dl)),
  egger2001 = list(call = "escalc('OR', ai, n1i, ci, n2i, data = dat.egger2001); rma(yi, vi, control = CTRL) [REML, z]; Peters: regtest(model = 'lm', predictor = 'ninv', ni = n1i + n2i); Harbord: regtest(rma(escalc('PETO', ..., add = 0)), model = 'lm')",
                   study = dat.egger2001$study, ai = dat.egger2001$ai, n1i = dat.egger2001$n1i,
                   ci = dat.egger2001$ci, n2i = dat.egger2001$n2i, yi = num(mg$yi), vi = num(mg$vi),
                   reml = small(mg_reml, ni = dat.egger2001$n1i + dat.egger2001$n2i),
                   harbord = rt(regtest(rma(yi, vi, data = peto, control = CTRL), model = "lm")),
                   peto_yi = num(peto$yi), peto_vi = num(peto$vi)),
  bcg = list(call = "escalc('RR', ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg); rma(yi, vi, control = CTRL) [REML]",
             study = paste(dat.bcg$author, dat.bcg$year), yi = num(bcg$yi), vi = num(bcg$vi),
             ablat = dat.bcg$ablat, alloc = dat.bcg$alloc, year = dat.bcg$year,
             reml = small(b_reml), influence_reml = infl(b_reml), influence_knha = infl(b_knha),
             influence_dl = infl(rma(yi, vi, data = bcg, method = "DL", control = CTRL)),
             mods_ablat_knha = fit(rma(yi, vi, mods = ~ ablat, data = bcg, test = "knha", control = CTRL)),
             mods_alloc_knha = fit(rma(yi, vi, mods = ~ factor(alloc), data = bcg, test = "knha", control = CTRL)),
             mods_both_z = fit(rma(yi, vi, mods = ~ ablat + factor(alloc), data = bcg, control = CTRL)),
             mods_ablat_dl_knha = fit(rma(yi, vi, mods = ~ ablat, data = bcg, method = "DL", test = "knha", control = CTRL)),
             influence_mods_knha = infl(rma(yi, vi, mods = ~ ablat, data = bcg, test = "knha", control = CTRL))))
cat(toJSON(out, digits = NA, auto_unbox = TRUE, null = "null", na = "null", pretty = FALSE))
