# Reference numbers for competing-risk statistics: cmprsk::cuminc (Aalen-Johansen CIF,
# its variance, Gray's test) and cmprsk::crr (Fine-Gray regression).
#
# Usage:  Rscript competing_risks.R <output.json>
#
# Uses base R + survival + cmprsk + KMsurv only. Writes one JSON document holding BOTH
# the input data sets and the results, so the Python tests run where R is absent.
# Layout:
#   meta      : R and package versions (not compared for drift)
#   datasets  : name -> {time, event, group, strata, covariate columns...}
#   cuminc    : list of {dataset, cause codes, rho, strata (bool), curves, tests, timepoints}
#               curves are cmprsk's raw step vectors: time = 0, t1, t1, t2, t2, ..., tmax
#   crr       : list of {dataset, failcode, terms, coef, var, loglik, loglik_null,
#               converged, summary (coef / se / z / p / exp(coef) CI)}
suppressPackageStartupMessages({
  library(survival)
  library(cmprsk)
  library(KMsurv)
})

args <- commandArgs(trailingOnly = TRUE)
if (length(args) != 1) stop("usage: Rscript competing_risks.R <output.json>")
out_path <- args[[1]]

RNGkind("Mersenne-Twister", "Inversion", "Rejection")

# ---------------------------------------------------------------- JSON writer (no packages)
json_scalar <- function(x) structure(x, class = "json_scalar")

num_str <- function(x) {
  ifelse(is.na(x), "null", ifelse(is.infinite(x), ifelse(x > 0, "1e999", "-1e999"),
         sprintf("%.17g", x)))
}
str_esc <- function(x) {
  x <- gsub("\\\\", "\\\\\\\\", x)
  x <- gsub("\"", "\\\\\"", x)
  paste0("\"", x, "\"")
}
to_json <- function(x) {
  if (inherits(x, "json_scalar")) {
    y <- unclass(x)
    if (is.character(y)) return(str_esc(y))
    if (is.logical(y)) return(if (is.na(y)) "null" else if (y) "true" else "false")
    return(num_str(as.double(y)))
  }
  if (is.null(x)) return("null")
  if (is.factor(x)) x <- as.character(x)
  if (is.matrix(x)) {
    rows <- lapply(seq_len(nrow(x)), function(i) x[i, ])
    return(paste0("[", paste(vapply(rows, to_json, ""), collapse = ","), "]"))
  }
  if (is.list(x)) {
    parts <- vapply(x, to_json, "")
    if (!is.null(names(x))) {
      return(paste0("{", paste0(str_esc(names(x)), ":", parts, collapse = ","), "}"))
    }
    return(paste0("[", paste(parts, collapse = ","), "]"))
  }
  if (is.character(x)) return(paste0("[", paste(str_esc(x), collapse = ","), "]"))
  if (is.logical(x)) return(paste0("[", paste(ifelse(x, "true", "false"), collapse = ","), "]"))
  paste0("[", paste(num_str(as.double(x)), collapse = ","), "]")
}

# ---------------------------------------------------------------- data sets
data(bmt, package = "KMsurv")
# Klein & Moeschberger bone marrow transplant data: t2 = disease-free survival time (days);
# cause 1 = relapse (d2 = 1), cause 2 = death in remission (d3 = 1, d2 = 0), 0 = censored.
bmt_event <- ifelse(bmt$d2 == 1, 1L, ifelse(bmt$d3 == 1, 2L, 0L))
datasets <- list()
datasets$bmt <- list(
  time = as.double(bmt$t2),
  event = bmt_event,
  group = c("ALL", "AML low", "AML high")[bmt$group],
  strata = ifelse(bmt$z10 == 1, "MTX", "no MTX"),
  age = as.double(bmt$z1),
  fab = as.integer(bmt$z8),
  disease = c("ALL", "AML low", "AML high")[bmt$group]
)
factor_levels <- list(
  bmt = list(disease = c("ALL", "AML low", "AML high")),
  months = list(mrd = c("negative", "single", "combined")),
  small = list(),
  censored_group = list(),
  fg200 = list()
)

# Cohort "months": monthly follow-up (heavy ties), administrative censoring at 48 months,
# relapse (1) and non-relapse mortality (2) both occurring exactly at the horizon too.
set.seed(20240611)
n <- 400
mrd <- sample(c("negative", "single", "combined"), n, replace = TRUE, prob = c(.5, .3, .2))
age <- round(rnorm(n, 40, 12), 1)
rel_rate <- c(negative = 0.008, single = 0.015, combined = 0.03)[mrd] * exp(0.01 * (age - 40))
t_rel <- rexp(n, rel_rate)
t_nrm <- rweibull(n, shape = 0.8, scale = 260 * exp(-0.02 * (age - 40)))
t_cen <- runif(n, 6, 90)
t_rel <- 3 * ceiling(t_rel / 3)       # relapse found at 3-monthly marrow visits
t_nrm <- ceiling(t_nrm)               # whole months: many ties, between causes too
t_cen <- ceiling(t_cen)
t_lat <- pmin(t_rel, t_nrm, t_cen)
# at a tie, an event wins over censoring and relapse wins over death
ev <- ifelse(t_lat == t_rel, 1L, ifelse(t_lat == t_nrm, 2L, 0L))
tm <- t_lat
ev[tm > 48] <- 0L                     # administrative censoring at 48 months
tm[tm > 48] <- 48
datasets$months <- list(
  time = as.double(tm),
  event = ev,
  group = mrd,
  strata = ifelse(runif(n) < 0.5, "center A", "center B"),
  age = age,
  mrd = mrd
)

# Cohort "small": 60 patients, three causes, times in 3-month steps, a group with no
# events of cause 3, ties of all kinds, administrative censoring at 24 months.
set.seed(7)
n <- 60
grp <- rep(c("a", "b", "c"), each = 20)
tm <- pmin(3 * sample(1:9, n, replace = TRUE), 24)
ev <- sample(c(0L, 1L, 2L, 3L), n, replace = TRUE, prob = c(.35, .3, .2, .15))
ev[grp == "c" & ev == 3L] <- 1L
tm[ev == 0L & runif(n) < 0.5] <- 24   # administrative censoring at the horizon
datasets$small <- list(
  time = as.double(tm),
  event = ev,
  group = grp,
  strata = rep(c("s1", "s2"), 30),
  x = round(rnorm(n), 2)
)

# Cohort "censored_group": "small" plus a fourth group of 8 patients who are all censored
# (no failures of any cause); Gray's test still uses that group's risk sets.
datasets$censored_group <- list(
  time = c(datasets$small$time, c(3, 6, 6, 9, 12, 24, 24, 24)),
  event = c(datasets$small$event, rep(0L, 8)),
  group = c(datasets$small$group, rep("d", 8)),
  strata = c(datasets$small$strata, rep(c("s1", "s2"), 4))
)

# Cohort "fg200": 200 patients, one binary covariate with a true log SHR near 0.7, where
# crr's default stopping rule (gtol = 1e-6) stops ~2e-5 short of the maximum.
set.seed(5)
n <- 200
x <- rbinom(n, 1, 0.4)
t1 <- rexp(n, 0.02 * exp(0.7 * x))
t2 <- rexp(n, 0.015)
tc <- runif(n, 10, 120)
tm <- pmin(t1, t2, tc)
ev <- ifelse(tm == t1, 1L, ifelse(tm == t2, 2L, 0L))
datasets$fg200 <- list(time = as.double(ceiling(tm)), event = ev, x = as.double(x))

# ---------------------------------------------------------------- cuminc
cuminc_entry <- function(name, use_strata, rho, tp) {
  d <- datasets[[name]]
  fit <- if (use_strata) {
    cuminc(d$time, d$event, group = d$group, strata = d$strata, rho = rho)
  } else {
    cuminc(d$time, d$event, group = d$group, rho = rho)
  }
  curves <- list()
  for (nm in setdiff(names(fit), "Tests")) {
    cu <- fit[[nm]]
    # names are "<group> <cause>"; the cause is the last word
    cause <- sub(".* ", "", nm)
    grp <- sub(" [^ ]*$", "", nm)
    curves[[length(curves) + 1]] <- list(group = json_scalar(grp), cause = json_scalar(as.integer(cause)),
                                         time = cu$time, est = cu$est, var = cu$var)
  }
  tests <- NULL
  if (!is.null(fit$Tests)) {
    tests <- list(cause = as.integer(rownames(fit$Tests)), stat = fit$Tests[, "stat"],
                  pv = fit$Tests[, "pv"], df = fit$Tests[, "df"])
  }
  tpo <- timepoints(fit, tp)
  rn <- rownames(tpo$est)
  list(dataset = json_scalar(name), strata = json_scalar(use_strata), rho = json_scalar(rho),
       curves = curves, tests = tests,
       timepoints = list(times = as.double(colnames(tpo$est)),
                         group = sub(" [^ ]*$", "", rn),
                         cause = as.integer(sub(".* ", "", rn)),
                         est = tpo$est, var = tpo$var))
}

cuminc_results <- list(
  cuminc_entry("bmt", FALSE, 0, c(0, 100, 365, 500.5, 1000, 2081, 2500)),
  cuminc_entry("bmt", TRUE, 0, c(365, 730)),
  cuminc_entry("bmt", FALSE, 1, c(365)),
  cuminc_entry("months", FALSE, 0, c(0.5, 1, 6, 12, 24, 36, 47.5, 48, 60)),
  cuminc_entry("months", TRUE, 0, c(12, 48)),
  cuminc_entry("small", FALSE, 0, c(3, 6, 10, 24, 30)),
  cuminc_entry("small", TRUE, 0, c(12)),
  cuminc_entry("censored_group", FALSE, 0, c(6, 24)),
  cuminc_entry("censored_group", TRUE, 0, c(12))
)

# one curve without groups (cuminc's single-group path: no Tests)
d <- datasets$months
one <- cuminc(d$time, d$event)
single <- list(dataset = json_scalar("months"),
               curves = lapply(names(one), function(nm) list(cause = json_scalar(as.integer(sub(".* ", "", nm))),
                                                             time = one[[nm]]$time, est = one[[nm]]$est,
                                                             var = one[[nm]]$var)))

# ---------------------------------------------------------------- crr
crr_entry <- function(name, failcode, terms, formula_rhs, convergence = "crr") {
  d <- as.data.frame(datasets[[name]][setdiff(names(datasets[[name]]), c("time", "event", "group", "strata"))],
                     stringsAsFactors = FALSE)
  for (f in names(factor_levels[[name]])) d[[f]] <- factor(d[[f]], levels = factor_levels[[name]][[f]])
  mm <- model.matrix(as.formula(paste("~", formula_rhs)), data = d)[, -1, drop = FALSE]
  # "crr": crr's defaults; "maximum": iterated to the maximum of the pseudo-likelihood
  ctl <- if (convergence == "crr") list(gtol = 1e-6, maxiter = 10) else list(gtol = 1e-13, maxiter = 100)
  fit <- crr(datasets[[name]]$time, datasets[[name]]$event, cov1 = mm, failcode = failcode,
             gtol = ctl$gtol, maxiter = ctl$maxiter)
  s <- summary(fit)
  list(dataset = json_scalar(name), failcode = json_scalar(failcode), terms = terms,
       convergence = json_scalar(convergence),
       r_terms = colnames(mm), coef = unname(fit$coef), var = unname(fit$var),
       loglik = json_scalar(fit$loglik), loglik_null = json_scalar(fit$loglik.null),
       converged = json_scalar(fit$converged), n = json_scalar(fit$n),
       se = unname(sqrt(diag(fit$var))), p_value = unname(2 * (1 - pnorm(abs(fit$coef) / sqrt(diag(fit$var))))),
       shr_lower = unname(s$conf.int[, 3]), shr_upper = unname(s$conf.int[, 4]))
}

crr_results <- list(
  crr_entry("bmt", 1, c("age", "fab", "disease[AML low]", "disease[AML high]"), "age + fab + disease"),
  crr_entry("bmt", 2, c("age", "fab", "disease[AML low]", "disease[AML high]"), "age + fab + disease"),
  crr_entry("months", 1, c("age", "mrd[single]", "mrd[combined]"), "age + mrd"),
  crr_entry("months", 2, c("age", "mrd[single]", "mrd[combined]"), "age + mrd"),
  crr_entry("small", 3, c("x"), "x"),
  crr_entry("fg200", 1, c("x"), "x"),
  crr_entry("bmt", 1, c("age", "fab", "disease[AML low]", "disease[AML high]"), "age + fab + disease", "maximum"),
  crr_entry("months", 2, c("age", "mrd[single]", "mrd[combined]"), "age + mrd", "maximum"),
  crr_entry("small", 3, c("x"), "x", "maximum"),
  crr_entry("fg200", 1, c("x"), "x", "maximum")
)

doc <- list(
  meta = list(generator = json_scalar("tests/outcomes/reference/competing_risks.R"),
              r_version = json_scalar(paste(R.version$major, R.version$minor, sep = ".")),
              cmprsk = json_scalar(as.character(packageVersion("cmprsk"))),
              survival = json_scalar(as.character(packageVersion("survival"))),
              kmsurv = json_scalar(as.character(packageVersion("KMsurv")))),
  datasets = datasets,
  factor_levels = factor_levels,
  cuminc = cuminc_results,
  cuminc_single = single,
  crr = crr_results
)
writeLines(to_json(doc), out_path)
