/*
 * i18n.h — messages in the reader's language (gettext).
 *
 * The platform's administrators and owners work in Russian and Kazakh, so
 * every message, hint and help text of enrpctl and enrpfs, and every message
 * libenrp logs, is looked up in the "enrp" catalogue of the language that
 * LC_ALL, LC_MESSAGES or LANG names; English, the text in the source, is the
 * default and what any missing translation falls back to.
 *
 * Only LC_MESSAGES follows the environment.  Numbers, dates, sorting and
 * character classes stay those of the C locale, so JSON, sizes and parsed
 * arguments read the same in every language ("1.50", never "1,50").
 *
 * Translation happens where text is printed: the printing functions (ctl_err,
 * ctl_hint, ..., enrp_log, enrpfs's messages) translate their format, and
 * tables of text (help, verb summaries) are marked with N_() where they are
 * defined and translated with _() where they are printed.  xgettext finds
 * them by those names (Makefile: ENRP_XGETTEXT_KEYWORDS).
 */
#ifndef ENRP_I18N_H
#define ENRP_I18N_H

#include <libintl.h>

#define ENRP_TEXTDOMAIN "enrp"

/* The text of MSGID in the reader's language. */
#define _(msgid) dgettext(ENRP_TEXTDOMAIN, msgid)
/* Marks MSGID for the catalogue where it is defined; _() translates it
 * where it is printed. */
#define N_(msgid) msgid

/* Sets LC_MESSAGES from the environment and finds the catalogues: next to
 * the running program in a build tree (BUILD/locale, what `make` writes),
 * else the installed ones (PREFIX/share/locale).  Call once, first thing in
 * main. */
void enrp_i18n_init(void);

#endif
