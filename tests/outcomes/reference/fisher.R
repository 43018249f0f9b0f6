# Reference P values of Fisher's exact test on R×C tables (2×2 to 5×5), from base R's
# fisher.test (network algorithm FEXACT for R×C, hypergeometric sum for 2×2).
#
# Usage: Rscript fisher.R OUTPUT.json
#
# Base R only. The JSON holds every table (cells by row) next to R's P value, so the
# Python tests run without R. Numbers are written with sprintf("%.17g").

args <- commandArgs(trailingOnly = TRUE)
if (length(args) != 1) stop("usage: Rscript fisher.R OUTPUT.json")
out_path <- args[1]

num <- function(x) paste0("[", paste(sprintf("%.17g", as.numeric(x)), collapse = ","), "]")
str1 <- function(x) paste0("\"", gsub("\"", "\\\\\"", x), "\"")
obj <- function(...) {
  kv <- list(...)
  paste0("{", paste(paste0(str1(names(kv)), ":", unlist(kv)), collapse = ","), "}")
}
arr <- function(items) paste0("[", paste(unlist(items), collapse = ",\n"), "]")
scalar <- function(x) sprintf("%.17g", as.numeric(x))

mk <- function(v, nr) matrix(v, nrow = nr, byrow = TRUE)
tables <- list(
  t22_zero = mk(c(0, 5, 7, 3), 2),
  t22_large = mk(c(45, 12, 30, 41), 2),
  t22_tie = mk(c(3, 3, 3, 3), 2),
  t23_sparse = mk(c(0, 0, 4, 3, 1, 0), 2),
  t25 = mk(c(12, 30, 5, 18, 9, 20, 14, 2, 6, 4), 2),
  t52 = mk(c(3, 9, 0, 4, 7, 2, 1, 1, 5, 5), 5),
  t33_zeros = mk(c(0, 3, 0, 4, 0, 2, 1, 1, 5), 3),
  t33_uniform = mk(rep(4, 9), 3),
  t34_sparse = mk(c(0, 1, 0, 6, 2, 0, 3, 0, 0, 4, 1, 1), 3),
  t43 = mk(c(8, 2, 1, 3, 7, 2, 0, 4, 9, 2, 1, 3), 4),
  t44 = mk(c(5, 2, 3, 1, 2, 6, 1, 3, 1, 2, 7, 2, 3, 1, 2, 6), 4),
  t44_zeros = mk(c(4, 0, 0, 1, 0, 3, 0, 2, 1, 0, 5, 0, 0, 2, 1, 3), 4),
  t44_strong = mk(c(12, 1, 0, 0, 1, 10, 2, 0, 0, 1, 11, 2, 0, 0, 1, 13), 4),
  t45 = mk(c(3, 1, 2, 0, 4, 1, 3, 0, 2, 1, 0, 2, 5, 1, 0, 2, 0, 1, 4, 3), 4),
  t55_sparse = mk(c(2, 0, 1, 0, 0, 0, 3, 0, 1, 0, 1, 0, 2, 0, 1, 0, 1, 0, 3, 0, 0, 0, 1, 0, 2), 5),
  t55 = mk(c(3, 1, 0, 2, 1, 0, 2, 1, 1, 2, 1, 0, 3, 1, 0, 2, 1, 0, 2, 1, 0, 1, 2, 1, 3), 5),
  t44_n120 = mk(c(10, 6, 9, 5, 7, 12, 8, 6, 9, 5, 11, 7, 4, 8, 6, 7), 4),
  t55_n57 = mk(c(3, 2, 4, 1, 2, 2, 3, 1, 3, 2, 4, 1, 2, 3, 1, 1, 3, 2, 2, 4, 2, 2, 3, 1, 3), 5)
)
cases <- list()
for (nm in names(tables)) {
  m <- tables[[nm]]
  p <- fisher.test(m, workspace = 2e7)$p.value
  cases[[length(cases) + 1]] <- obj(name = str1(nm), nrow = scalar(nrow(m)), cells = num(as.vector(t(m))),
                                    p_value = scalar(p))
}
json <- obj(r_version = str1(R.version.string), tables = arr(cases))
writeLines(json, out_path)
