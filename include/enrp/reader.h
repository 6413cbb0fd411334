/*
 * reader.h — reads of sealed files (DESIGN §5).
 *
 * A sealed file is a list of chunks.  Every chunk is verified before a byte
 * of it is handed out; decoded chunks are kept in a bounded cache shared by
 * all readers of the pipeline, and a pool of decoder threads works ahead of
 * sequential readers.
 *
 * Thread-safety: one reader may be used from several threads at once (the
 * kernel sends read-ahead requests for one open file on several threads).
 */
#ifndef ENRP_READER_H
#define ENRP_READER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <enrp/ingest.h>

typedef struct enrp_reader enrp_reader;

/* Opens sealed file INO for reading.  -EINVAL if INO is not sealed. */
int enrp_reader_open(enrp_ingest *ing, uint64_t ino, enrp_reader **out);

/* The same for file INO as snapshot S (borrowed: it must outlive the
 * reader) shows it.  -ENOENT not in it, -EINVAL not a file.  A damaged
 * chunk fails the read with -EIO and is logged; the live inode of that
 * number is not marked. */
struct enrp_snapshot;
int enrp_reader_open_snapshot(enrp_ingest *ing, const struct enrp_snapshot *s, uint64_t ino,
                              enrp_reader **out);
/* Opens spool file INO that rewrites a sealed file (its chunk list stays as
 * the base: core/base_int.h) to read it through SPOOL_FD (borrowed: it must
 * outlive the reader): the spool file's bytes where it holds them, the
 * base's elsewhere, every chunk checked.  Once the file is sealed again,
 * reads go to its new chunks.  -EINVAL when INO has no base: read the
 * spool file alone; -ESTALE when it is not a spool file (any more). */
int enrp_reader_open_based(enrp_ingest *ing, uint64_t ino, int spool_fd, enrp_reader **out);

/* Before a write, or a hole punched, at [OFF, OFF+LEN) of a based file
 * (reader from enrp_reader_open_based): the base chunks it touches are
 * copied into the spool file and marked as its.  Then the write may go to
 * the spool file.  No-op for other readers, or past the base.  -EIO (a
 * chunk failed its check: the file is marked corrupt), -ENOSPC, -errno. */
int enrp_reader_prepare_write(enrp_reader *r, uint64_t off, uint64_t len);

void enrp_reader_close(enrp_reader *r);

/* Chunks this process found failing their check on a read (each marked its
 * file corrupt), since it started: the daemon's verify-failure counter.
 * Only goes up.  Thread-safe. */
uint64_t enrp_reader_verify_failures(void);

/* Reads up to SIZE bytes at OFF (fewer at end of file).  Every chunk is
 * checked before a byte of it is returned; a chunk that fails makes the call
 * fail with -EIO, marks the file corrupt and journals it.  Returns the
 * number of bytes read or -errno. */
ssize_t enrp_reader_read(enrp_reader *r, void *buf, size_t size, uint64_t off);

#endif
