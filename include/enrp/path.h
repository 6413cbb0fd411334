/*
 * path.h — the path of an inode relative to its EIR, for audit records.
 *
 * The namespace keeps parent pointers only for directories; a regular file
 * is found by the names that point at it.  So core remembers, in a small
 * table in memory, the last name each recently seen inode was reached by
 * (lookup, create, link, rename: every way a file gets a name or the kernel
 * learns one), and every use of a remembered name is checked against the
 * store first: a stale one is never reported.  A file without a remembered
 * name is looked for among the entries of the store, up to a bound, and is
 * else reported as unknown.  A file with several hard links is reported by
 * the name it was last reached by (or, when searched for, the first found
 * in the store's key order): one of its names, never a made-up one.
 *
 * Thread-safe.
 */
#ifndef ENRP_PATH_H
#define ENRP_PATH_H

#include <stddef.h>
#include <stdint.h>

#include <enrp/store.h>

/* Room for the longest path an audit record shows, and its NUL. */
#define ENRP_PATH_MAX 4096

/* The path of NAME in directory DIR (NAME NULL or "": of DIR itself), or,
 * with DIR 0, of inode INO, relative to its EIR's directory ("a/b c.txt";
 * "" for the EIR directory itself), into BUF (SIZE).  -ENOENT when it
 * cannot be told (the file or a directory on the way is gone, or no name
 * was found within the search bound), -ENAMETOOLONG, -EIO. */
int enrp_path_of(enrp_store *st, uint64_t dir, const char *name, uint64_t ino, char *buf,
                 size_t size);

#endif
