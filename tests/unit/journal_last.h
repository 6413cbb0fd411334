/*
 * journal_last.h — the unit tests' view of the journal's tail: how many
 * records it holds and the last one, to check that a change journalled
 * exactly one record (and a refusal none).  Header-only, like tap.h.
 */
#ifndef ENRP_TEST_JOURNAL_LAST_H
#define ENRP_TEST_JOURNAL_LAST_H

#include <stdint.h>
#include <string.h>

#include <enrp/journal.h>

struct last {
	uint64_t n;                    /* records in the journal */
	struct enrp_journal_record rec; /* the last one (zeros when none) */
};

static inline int journal_last_cb(const struct enrp_journal_record *r, void *arg)
{
	struct last *l = arg;
	l->n++;
	l->rec = *r;
	return 0;
}

static inline struct last journal_last_of(enrp_store *store)
{
	struct last l;
	memset(&l, 0, sizeof(l));
	enrp_journal_iter(store, NULL, journal_last_cb, &l);
	return l;
}

#endif
