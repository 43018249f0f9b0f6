# Reference numbers for mrdquant.outcomes (Kaplan-Meier, log-rank, Cox, Table-1 tests).
#
# Usage: Rscript survival.R OUTPUT.json
#
# Needs base R with the survival and KMsurv packages. The JSON holds every input (the
# KMsurv bmt data of Klein & Moeschberger and two seeded simulated cohorts with heavy ties
# and administrative censoring) next to R's results, so the Python tests run without R.
# Numbers are written by hand with sprintf("%.17g") so they round-trip exactly.

suppressPackageStartupMessages({
  library(survival)
  library(KMsurv)
})

args <- commandArgs(trailingOnly = TRUE)
if (length(args) != 1) stop("usage: Rscript survival.R OUTPUT.json")
out_path <- args[1]

# ---- minimal JSON writer ------------------------------------------------------------
num <- function(x) {
  if (length(x) == 0) return("[]")
  s <- ifelse(is.na(x), "null",
       ifelse(is.infinite(x), ifelse(x > 0, "\"Infinity\"", "\"-Infinity\""),
              sprintf("%.17g", as.numeric(x))))
  paste0("[", paste(s, collapse = ","), "]")
}
str1 <- function(x) paste0("\"", gsub("\"", "\\\\\"", x), "\"")
strv <- function(x) paste0("[", paste(str1(as.character(x)), collapse = ","), "]")
obj <- function(...) {
  kv <- list(...)
  paste0("{", paste(paste0(str1(names(kv)), ":", unlist(kv)), collapse = ","), "}")
}
arr <- function(items) paste0("[", paste(unlist(items), collapse = ",\n"), "]")
scalar <- function(x) if (is.na(x)) "null" else sprintf("%.17g", as.numeric(x))

# ---- data -----------------------------------------------------------------------------
data(bmt, package = "KMsurv")
bmt$g2 <- as.integer(bmt$group == 2)
bmt$g3 <- as.integer(bmt$group == 3)

# Simulated cohort 1: 3 MRD groups, times in whole months (heavy ties), administrative
# censoring at 48 months where many events also fall, covariates age and sex.
set.seed(20201120)
n1 <- 180
grp <- sample(c("negative", "MRDsin+", "MRDco+"), n1, replace = TRUE, prob = c(0.5, 0.3, 0.2))
age <- round(runif(n1, 14, 65))
sex <- rbinom(n1, 1, 0.55)
rate <- 0.012 * ifelse(grp == "MRDco+", 3, ifelse(grp == "MRDsin+", 1.6, 1)) * exp(0.01 * (age - 40))
ev_t <- ceiling(rexp(n1, rate))
cens_t <- ceiling(runif(n1, 6, 80))
time1 <- pmin(ev_t, cens_t, 48)
status1 <- as.integer(ev_t <= pmin(cens_t, 48))
# force extra ties: events exactly at the horizon and censorings at event times
at_h <- sample(which(status1 == 0 & time1 == 48), min(6, sum(status1 == 0 & time1 == 48)))
status1[at_h[seq_len(length(at_h) %/% 2)]] <- 1L
sim1 <- data.frame(time = time1, status = status1, group = grp, age = age, sex = sex)
sim1$co <- as.integer(sim1$group == "MRDco+")
sim1$sin <- as.integer(sim1$group == "MRDsin+")
sim1$center <- sample(c("A", "B"), n1, replace = TRUE)

# Simulated cohort 2: small, with a survival curve that sits exactly at 0.5 (median is a
# midpoint), a group whose last time is an event (S = 0), and ties between events and
# censorings.
sim2 <- data.frame(
  time = c(1, 2, 2, 3, 4, 4, 5, 6, 7, 8, 2, 3, 3, 3, 5, 6, 6, 9, 9, 9),
  status = c(1, 1, 0, 1, 1, 0, 0, 1, 0, 0, 1, 1, 1, 0, 1, 1, 0, 1, 1, 1),
  group = rep(c("a", "b"), each = 10)
)

# Counting-process data: MRD status switches from negative to positive at a random time;
# each patient contributes (start, stop] rows.
set.seed(42)
n3 <- 120
sw <- ceiling(runif(n3, 1, 30))
has_sw <- rbinom(n3, 1, 0.5) == 1
age3 <- round(runif(n3, 18, 65))
t_end <- integer(n3); ev <- integer(n3)
for (i in seq_len(n3)) {
  base <- 0.015 * exp(0.015 * (age3[i] - 40))
  t0 <- ceiling(rexp(1, base))
  if (has_sw[i] && t0 > sw[i]) t0 <- sw[i] + ceiling(rexp(1, base * 3))
  c0 <- ceiling(runif(1, 12, 60))
  t_end[i] <- min(t0, c0, 36)
  ev[i] <- as.integer(t0 <= min(c0, 36))
}
rows <- list()
for (i in seq_len(n3)) {
  if (has_sw[i] && sw[i] < t_end[i]) {
    rows[[length(rows) + 1]] <- data.frame(id = i, start = 0, stop = sw[i], event = 0L, mrd = 0L, age = age3[i])
    rows[[length(rows) + 1]] <- data.frame(id = i, start = sw[i], stop = t_end[i], event = ev[i], mrd = 1L, age = age3[i])
  } else {
    rows[[length(rows) + 1]] <- data.frame(id = i, start = 0, stop = t_end[i], event = ev[i], mrd = 0L, age = age3[i])
  }
}
cp <- do.call(rbind, rows)

datasets <- list(
  bmt = obj(t1 = num(bmt$t1), d1 = num(bmt$d1), t2 = num(bmt$t2), d3 = num(bmt$d3),
            group = num(bmt$group), g2 = num(bmt$g2), g3 = num(bmt$g3), z1 = num(bmt$z1),
            z3 = num(bmt$z3), z8 = num(bmt$z8), z10 = num(bmt$z10)),
  sim1 = obj(time = num(sim1$time), status = num(sim1$status), group = strv(sim1$group),
             age = num(sim1$age), sex = num(sim1$sex), co = num(sim1$co), sin = num(sim1$sin),
             center = strv(sim1$center)),
  sim2 = obj(time = num(sim2$time), status = num(sim2$status), group = strv(sim2$group)),
  cp = obj(id = num(cp$id), start = num(cp$start), stop = num(cp$stop), event = num(cp$event),
           mrd = num(cp$mrd), age = num(cp$age))
)

# ---- Kaplan-Meier ---------------------------------------------------------------------
km_cases <- list()
km_case <- function(name, d, tcol, scol, gcol, ctype, times) {
  f <- if (is.null(gcol)) {
    survfit(Surv(d[[tcol]], d[[scol]]) ~ 1, conf.type = ctype)
  } else {
    survfit(Surv(d[[tcol]], d[[scol]]) ~ d[[gcol]], conf.type = ctype)
  }
  s <- summary(f, censored = TRUE)
  lab <- if (is.null(gcol)) rep("all", length(s$time)) else sub("^.*=", "", as.character(s$strata))
  st <- summary(f, times = times, extend = TRUE)
  labt <- if (is.null(gcol)) rep("all", length(st$time)) else sub("^.*=", "", as.character(st$strata))
  tab <- summary(f)$table
  if (is.null(dim(tab))) tab <- matrix(tab, nrow = 1, dimnames = list("all", names(tab)))
  mg <- if (is.null(gcol)) "all" else sub("^.*=", "", rownames(tab))
  obj(dataset = str1(name), time = str1(tcol), status = str1(scol),
      group = if (is.null(gcol)) "null" else str1(gcol), conf_type = str1(ctype),
      curve = obj(group = strv(lab), time = num(s$time), n_risk = num(s$n.risk),
                  n_event = num(s$n.event), n_censor = num(s$n.censor), survival = num(s$surv),
                  std_err = num(s$std.err), lower = num(s$lower), upper = num(s$upper)),
      times = num(times),
      at_times = obj(group = strv(labt), time = num(st$time), n_risk = num(st$n.risk),
                     n_event = num(st$n.event), survival = num(st$surv),
                     std_err = num(st$std.err), lower = num(st$lower), upper = num(st$upper)),
      median = obj(group = strv(mg), n = num(tab[, "records"]), events = num(tab[, "events"]),
                   median = num(tab[, "median"]), lower = num(tab[, "0.95LCL"]),
                   upper = num(tab[, "0.95UCL"])))
}
for (ct in c("log", "log-log", "plain")) {
  km_cases[[length(km_cases) + 1]] <- km_case("bmt", bmt, "t2", "d3", "group", ct, c(100, 365, 730, 1000, 3000))
  km_cases[[length(km_cases) + 1]] <- km_case("bmt", bmt, "t1", "d1", NULL, ct, c(0, 180, 365.25, 2640))
  km_cases[[length(km_cases) + 1]] <- km_case("sim1", sim1, "time", "status", "group", ct, c(6, 12, 24, 36, 48))
  km_cases[[length(km_cases) + 1]] <- km_case("sim2", sim2, "time", "status", "group", ct, c(2, 3, 5.5, 9, 12))
}

# ---- log-rank / Fleming-Harrington -------------------------------------------------------
lr_cases <- list()
lr_case <- function(name, d, tcol, scol, gcol, rho, scol_strata) {
  f <- if (is.null(scol_strata)) {
    survdiff(Surv(d[[tcol]], d[[scol]]) ~ d[[gcol]], rho = rho)
  } else {
    survdiff(Surv(d[[tcol]], d[[scol]]) ~ d[[gcol]] + strata(d[[scol_strata]]), rho = rho)
  }
  e <- if (is.matrix(f$exp)) rowSums(f$exp) else f$exp
  df <- sum(e > 0) - 1
  obj(dataset = str1(name), time = str1(tcol), status = str1(scol), group = str1(gcol),
      rho = scalar(rho), strata = if (is.null(scol_strata)) "null" else str1(scol_strata),
      statistic = scalar(f$chisq), df = scalar(df),
      p_value = scalar(pchisq(f$chisq, df, lower.tail = FALSE)),
      observed = num(if (is.matrix(f$obs)) rowSums(f$obs) else f$obs), expected = num(e))
}
for (rho in c(0, 1, 0.5)) {
  lr_cases[[length(lr_cases) + 1]] <- lr_case("bmt", bmt, "t2", "d3", "group", rho, NULL)
  lr_cases[[length(lr_cases) + 1]] <- lr_case("bmt", bmt, "t2", "d3", "group", rho, "z3")
  lr_cases[[length(lr_cases) + 1]] <- lr_case("sim1", sim1, "time", "status", "group", rho, NULL)
  lr_cases[[length(lr_cases) + 1]] <- lr_case("sim1", sim1, "time", "status", "group", rho, "center")
  lr_cases[[length(lr_cases) + 1]] <- lr_case("sim2", sim2, "time", "status", "group", rho, NULL)
}

# ---- Cox --------------------------------------------------------------------------------
cox_cases <- list()
cox_case <- function(name, d, f, ties, duration, event, covariates, start = NULL, strata = NULL) {
  fit <- coxph(f, data = d, ties = ties, control = coxph.control(eps = 1e-12, toler.chol = 1e-13, iter.max = 100))
  se <- sqrt(diag(fit$var))
  obj(dataset = str1(name), duration = str1(duration), event = str1(event),
      covariates = strv(covariates), ties = str1(ties),
      start = if (is.null(start)) "null" else str1(start),
      strata = if (is.null(strata)) "null" else str1(strata),
      coef = num(unname(coef(fit))), se = num(unname(se)),
      loglik = num(fit$loglik), wald = scalar(fit$wald.test),
      lr = scalar(2 * diff(fit$loglik)), score = scalar(fit$score), df = scalar(length(coef(fit))))
}
for (ties in c("efron", "breslow")) {
  cox_cases[[length(cox_cases) + 1]] <- cox_case("bmt", bmt, Surv(t2, d3) ~ g2 + g3 + z1 + z3 + z10, ties,
                                                 "t2", "d3", c("g2", "g3", "z1", "z3", "z10"))
  cox_cases[[length(cox_cases) + 1]] <- cox_case("bmt", bmt, Surv(t2, d3) ~ z1, ties, "t2", "d3", c("z1"))
  cox_cases[[length(cox_cases) + 1]] <- cox_case("bmt", bmt, Surv(t2, d3) ~ g2 + g3 + z1 + strata(z3), ties,
                                                 "t2", "d3", c("g2", "g3", "z1"), strata = "z3")
  cox_cases[[length(cox_cases) + 1]] <- cox_case("sim1", sim1, Surv(time, status) ~ co + sin + age + sex, ties,
                                                 "time", "status", c("co", "sin", "age", "sex"))
  cox_cases[[length(cox_cases) + 1]] <- cox_case("cp", cp, Surv(start, stop, event) ~ mrd + age, ties,
                                                 "stop", "event", c("mrd", "age"), start = "start")
}

# ---- Table-1 tests ----------------------------------------------------------------------
mk_table <- function(v, nr) matrix(v, nrow = nr, byrow = TRUE)
tables <- list(
  t22 = mk_table(c(12, 5, 3, 9), 2),
  t22b = mk_table(c(20, 1, 14, 6), 2),
  t33 = mk_table(c(3, 1, 4, 2, 6, 1, 0, 3, 5), 3),
  t24 = mk_table(c(5, 2, 7, 1, 3, 8, 2, 6), 2),
  t32 = mk_table(c(10, 4, 6, 9, 2, 8), 3),
  t34 = mk_table(c(10, 12, 8, 5, 7, 9, 15, 11, 6, 8, 10, 14), 3),
  t34_large = mk_table(c(20, 25, 30, 10, 15, 20, 25, 30, 10, 15, 20, 25), 3)
)
tab_cases <- list()
for (nm in names(tables)) {
  m <- tables[[nm]]
  fp <- fisher.test(m, workspace = 2e7)$p.value
  c1 <- suppressWarnings(chisq.test(m, correct = TRUE))
  c0 <- suppressWarnings(chisq.test(m, correct = FALSE))
  tab_cases[[length(tab_cases) + 1]] <- obj(
    name = str1(nm), nrow = scalar(nrow(m)), cells = num(as.vector(t(m))),
    fisher_p = scalar(fp), chisq_correct = scalar(c1$statistic), chisq_correct_p = scalar(c1$p.value),
    chisq = scalar(c0$statistic), chisq_p = scalar(c0$p.value), chisq_df = scalar(c0$parameter))
}
wx <- list()
wcase <- function(name, x, y) {
  w <- wilcox.test(x, y, exact = FALSE, correct = TRUE)
  w0 <- wilcox.test(x, y, exact = FALSE, correct = FALSE)
  obj(name = str1(name), x = num(x), y = num(y), W = scalar(w$statistic),
      p_value = scalar(w$p.value), p_value_nocorrect = scalar(w0$p.value))
}
wx[[1]] <- wcase("bmt_age_by_mtx", bmt$z1[bmt$z10 == 0], bmt$z1[bmt$z10 == 1])
wx[[2]] <- wcase("sim1_age_co_vs_neg", sim1$age[sim1$group == "MRDco+"], sim1$age[sim1$group == "negative"])
kw <- kruskal.test(z1 ~ group, data = bmt)
kwj <- obj(name = str1("bmt_age_by_group"), statistic = scalar(kw$statistic),
           df = scalar(kw$parameter), p_value = scalar(kw$p.value))

json <- obj(
  r_version = str1(R.version.string),
  survival_version = str1(as.character(packageVersion("survival"))),
  datasets = do.call(obj, datasets),
  km = arr(km_cases),
  logrank = arr(lr_cases),
  cox = arr(cox_cases),
  tables = arr(tab_cases),
  wilcox = arr(wx),
  kruskal = kwj
)
writeLines(json, out_path)
