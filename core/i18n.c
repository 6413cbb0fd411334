/*
 * i18n.c — where the message catalogues are, and which language to use.
 */
#include <limits.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <enrp/i18n.h>

#ifndef ENRP_LOCALEDIR
#define ENRP_LOCALEDIR "/usr/local/share/locale"
#endif

void enrp_i18n_init(void)
{
	char exe[PATH_MAX], dir[PATH_MAX + 16];
	const char *localedir = ENRP_LOCALEDIR;
	struct stat sb;

	setlocale(LC_MESSAGES, "");
	/* A program run from its build tree (tests, the demo, a developer)
	 * speaks with the catalogues built next to it, not with whatever an
	 * older `make install` left in PREFIX. */
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		char *slash = strrchr(exe, '/');
		if (slash) {
			*slash = '\0';
			snprintf(dir, sizeof(dir), "%s/locale", exe);
			if (stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode))
				localedir = dir;
		}
	}
	bindtextdomain(ENRP_TEXTDOMAIN, localedir);
	/* Catalogues are UTF-8 and so is every terminal the platform uses;
	 * LC_CTYPE stays "C" (see i18n.h), which would otherwise make gettext
	 * transliterate Cyrillic into question marks. */
	bind_textdomain_codeset(ENRP_TEXTDOMAIN, "UTF-8");
}
