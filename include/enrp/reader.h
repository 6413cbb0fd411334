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
void enrp_reader_close(enrp_reader *r);

/* Reads up to SIZE bytes at OFF (fewer at end of file).  Every chunk is
 * checked before a byte of it is returned; a chunk that fails makes the call
 * fail with -EIO, marks the file corrupt and journals it.  Returns the
 * number of bytes read or -errno. */
ssize_t enrp_reader_read(enrp_reader *r, void *buf, size_t size, uint64_t off);

#endif
