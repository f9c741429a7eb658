# C8S_CHECK_CFLAG(FLAG, ACTION-IF-OK)
# Run ACTION-IF-OK when the C compiler accepts FLAG without a warning.
AC_DEFUN([C8S_CHECK_CFLAG], [
  AS_VAR_PUSHDEF([c8s_cv], [c8s_cv_cflag_$1])
  AC_CACHE_CHECK([whether $CC accepts $1], [c8s_cv], [
    c8s_save_cflags=$CFLAGS
    CFLAGS="$CFLAGS -Werror $1"
    AC_COMPILE_IFELSE([AC_LANG_PROGRAM([], [])],
      [AS_VAR_SET([c8s_cv], [yes])], [AS_VAR_SET([c8s_cv], [no])])
    CFLAGS=$c8s_save_cflags])
  AS_VAR_IF([c8s_cv], [yes], [$2])
  AS_VAR_POPDEF([c8s_cv])
])
