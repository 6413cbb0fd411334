/*
 * test_keys.c — the master key file (creation, refusal of unsafe or foreign
 * files, check value), wrapped EIR data keys, and escrow blobs, including the
 * domain separation between the two kinds of blob.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <enrp/codec.h>
#include <enrp/enrp.h>
#include <enrp/keys.h>

#include "../tap.h"

static const char *tmp;

static char *path_of(const char *name)
{
	static char buf[8][256];
	static int i;
	char *p = buf[i++ % 8];
	snprintf(p, 256, "%s/%s", tmp, name);
	return p;
}

/* The last ERR message, so refusals can be checked for what they tell the
 * administrator. */
static char last_err[1024];

static void capture(enum enrp_log_level level, const char *msg, void *ctx)
{
	(void)ctx;
	if (level == ENRP_LOG_ERR)
		snprintf(last_err, sizeof(last_err), "%s", msg);
}

static int write_file(const char *path, const void *p, size_t n, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		return -errno;
	int rc = write(fd, p, n) == (ssize_t)n ? 0 : -EIO;
	if (fchmod(fd, mode) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;
	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static bool all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

static void test_create_load(void)
{
	const char *key = path_of("master.key");
	struct stat sb;
	uint8_t before[32], after[32];

	is_int(enrp_master_create(key), 0, "create a master key file");
	ok(stat(key, &sb) == 0 && (sb.st_mode & 07777) == 0400 && sb.st_size == 32 &&
	   S_ISREG(sb.st_mode), "it is a regular 32-byte file with mode 0400");
	is_int(count_entries(tmp), 1, "no temporary file is left behind");

	int fd = open(key, O_RDONLY);
	ok(fd >= 0 && read(fd, before, 32) == 32, "read it back");
	if (fd >= 0)
		close(fd);
	is_int(enrp_master_create(key), -EEXIST, "create over an existing key: -EEXIST");
	fd = open(key, O_RDONLY);
	ok(fd >= 0 && read(fd, after, 32) == 32 && memcmp(before, after, 32) == 0,
	   "and the existing key is untouched");
	if (fd >= 0)
		close(fd);
	is_int(count_entries(tmp), 1, "still no temporary file");
	ok(!all_zero(before, 32), "the key is not all zeros");
	is_int(enrp_master_create(path_of("no/such/dir/k")), -ENOENT,
	       "create in a missing directory: -ENOENT");

	enrp_master *m = NULL;
	is_int(enrp_master_load(key, &m), 0, "load it");
	uint8_t check[32], check2[32];
	is_int(enrp_master_check_value(m, check), 0, "check value");
	is_int(enrp_master_verify(m, check), 0, "verify against its own check value");
	check[0] ^= 1;
	is_int(enrp_master_verify(m, check), -EKEYREJECTED, "verify a different value: -EKEYREJECTED");
	check[0] ^= 1;
	enrp_master_check_value(m, check2);
	ok(memcmp(check, check2, 32) == 0, "the check value is deterministic");
	enrp_master_free(m);

	/* Another key file fails verification against the first key's value:
	 * what a mount with the wrong key file sees. */
	const char *key2 = path_of("other.key");
	enrp_master *m2 = NULL;
	is_int(enrp_master_create(key2), 0, "create a second key");
	is_int(enrp_master_load(key2, &m2), 0, "load it");
	is_int(enrp_master_verify(m2, check), -EKEYREJECTED,
	       "the wrong key file is refused: -EKEYREJECTED");
	enrp_master_free(m2);
	enrp_master_free(NULL);
	unlink(key2);
}

static void test_refusals(void)
{
	const char *key = path_of("master.key");
	enrp_master *m = NULL;
	uint8_t bytes[33];
	memset(bytes, 0x42, sizeof(bytes));

	enrp_log_set_sink(capture, NULL, ENRP_LOG_ERR);

	chmod(key, 0644);
	last_err[0] = '\0';
	is_int(enrp_master_load(key, &m), -EPERM, "mode 0644: -EPERM");
	char want[512];
	snprintf(want, sizeof(want), "key file '%s' is readable by others (mode 0644); chmod 0400 it",
	         key);
	is_str(last_err, want, "and the log says why and what to do");
	chmod(key, 0640);
	is_int(enrp_master_load(key, &m), -EPERM, "mode 0640: -EPERM");
	ok(strstr(last_err, "readable by its group (mode 0640)") != NULL, "log: %s", last_err);
	chmod(key, 0602);
	is_int(enrp_master_load(key, &m), -EPERM, "mode 0602: -EPERM");
	chmod(key, 0620);
	is_int(enrp_master_load(key, &m), -EPERM, "mode 0620: -EPERM");
	chmod(key, 0600);
	is_int(enrp_master_load(key, &m), 0, "mode 0600 is accepted");
	enrp_master_free(m);
	m = NULL;
	chmod(key, 0711);
	is_int(enrp_master_load(key, &m), 0, "execute bits alone are not refused");
	enrp_master_free(m);
	m = NULL;
	chmod(key, 0400);

	const char *short_key = path_of("short.key");
	write_file(short_key, bytes, 31, 0400);
	is_int(enrp_master_load(short_key, &m), -EINVAL, "31-byte file: -EINVAL");
	ok(strstr(last_err, "holds 31 bytes, not 32") != NULL, "log: %s", last_err);
	unlink(short_key);
	const char *long_key = path_of("long.key");
	write_file(long_key, bytes, 33, 0400);
	is_int(enrp_master_load(long_key, &m), -EINVAL, "33-byte file: -EINVAL");
	unlink(long_key);
	const char *empty_key = path_of("empty.key");
	write_file(empty_key, bytes, 0, 0400);
	is_int(enrp_master_load(empty_key, &m), -EINVAL, "empty file: -EINVAL");
	unlink(empty_key);

	is_int(enrp_master_load(tmp, &m), -EINVAL, "a directory: -EINVAL");
	const char *fifo = path_of("fifo.key");
	mkfifo(fifo, 0600);
	is_int(enrp_master_load(fifo, &m), -EINVAL, "a FIFO: -EINVAL, without blocking");
	unlink(fifo);
	is_int(enrp_master_load(path_of("missing.key"), &m), -ENOENT, "missing file: -ENOENT");

	/* A symlink is followed, and the file it reaches is what is checked. */
	const char *link_key = path_of("link.key");
	symlink(key, link_key);
	is_int(enrp_master_load(link_key, &m), 0, "a symlink to a good key file loads");
	enrp_master_free(m);
	m = NULL;
	unlink(link_key);

	/* Foreign owner: only testable as root, which may chown. */
	const char *foreign = path_of("foreign.key");
	write_file(foreign, bytes, 32, 0400);
	if (geteuid() == 0 && chown(foreign, 4242, 4242) == 0) {
		is_int(enrp_master_load(foreign, &m), -EPERM, "a key owned by another uid: -EPERM");
		ok(strstr(last_err, "owned by uid 4242") != NULL, "log: %s", last_err);
	} else {
		is_int(enrp_master_load(foreign, &m), 0, "(not root: own key file loads)");
		enrp_master_free(m);
		m = NULL;
		ok(1, "# SKIP foreign owner needs root");
	}
	unlink(foreign);

	enrp_log_set_sink(NULL, NULL, ENRP_LOG_NOTICE);
}

static void test_eir_keys(void)
{
	enrp_master *m = NULL, *m2 = NULL;
	uint8_t w1[ENRP_WRAPPED_KEY_LEN], w2[ENRP_WRAPPED_KEY_LEN];
	struct enrp_eir_key k1, k2, k3;

	enrp_master_load(path_of("master.key"), &m);
	enrp_master_create(path_of("other.key"));
	enrp_master_load(path_of("other.key"), &m2);
	ok(m && m2, "two master keys loaded");

	is_int(enrp_master_new_eir_key(m, 7, w1, &k1), 0, "new data key for EIR 7");
	is_int(enrp_master_unwrap_eir_key(m, 7, w1, &k2), 0, "unwrap it");
	ok(memcmp(&k1, &k2, sizeof(k1)) == 0, "unwrapped key derives the same subkeys");
	ok(!all_zero(&k1, sizeof(k1)), "subkeys are not zero");

	memset(&k3, 0x77, sizeof(k3));
	is_int(enrp_master_unwrap_eir_key(m, 8, w1, &k3), -EKEYREJECTED,
	       "unwrap as EIR 8: -EKEYREJECTED");
	ok(all_zero(&k3, sizeof(k3)), "and the output is wiped");
	is_int(enrp_master_unwrap_eir_key(m2, 7, w1, &k3), -EKEYREJECTED,
	       "unwrap with another master key: -EKEYREJECTED");
	int accepted = 0;
	for (size_t i = 0; i < ENRP_WRAPPED_KEY_LEN; i++) {
		w1[i] ^= 0x01;
		if (enrp_master_unwrap_eir_key(m, 7, w1, &k3) != -EKEYREJECTED)
			accepted++;
		w1[i] ^= 0x01;
	}
	is_int(accepted, 0, "a flipped bit anywhere in the blob: -EKEYREJECTED");

	is_int(enrp_master_new_eir_key(m, 7, w2, &k3), 0, "a second key for EIR 7");
	ok(memcmp(k1.enc, k3.enc, ENRP_KEY_LEN) != 0 && memcmp(w1, w2, sizeof(w1)) != 0,
	   "is a different random key");

	/* The unwrapped key works with the codec: what enrpfs does after a
	 * restart. */
	enrp_codec *c = NULL;
	uint8_t d[ENRP_DIGEST_LEN], frame[512], back[100];
	size_t flen, plen;
	const char msg[100] = "a chunk of an encrypted EIR";
	enrp_codec_new(3, &c);
	enrp_codec_name(c, &k1, msg, sizeof(msg), d);
	is_int(enrp_codec_encode(c, &k1, d, msg, sizeof(msg), frame, sizeof(frame), &flen), 0,
	       "encode under the new key");
	ok(enrp_codec_decode(c, &k2, d, frame, flen, back, sizeof(back), &plen) == 0 &&
	   memcmp(back, msg, sizeof(msg)) == 0, "decode under the unwrapped key");
	is_int(enrp_codec_decode(c, &k3, d, frame, flen, back, sizeof(back), &plen), -EBADMSG,
	       "another EIR key cannot decode it");
	enrp_codec_free(c);

	enrp_eir_key_wipe(&k1);
	enrp_eir_key_wipe(&k2);
	enrp_eir_key_wipe(&k3);
	enrp_master_free(m);
	enrp_master_free(m2);
	unlink(path_of("other.key"));
}

static void test_escrow(void)
{
	enrp_master *m = NULL, *m2 = NULL;
	static const char secret[] = "age-secret-key-1 of alice's dump encryption";
	uint8_t *box = NULL, *out = NULL;
	size_t boxlen = 0, outlen = 0;

	enrp_master_load(path_of("master.key"), &m);
	enrp_master_create(path_of("other.key"));
	enrp_master_load(path_of("other.key"), &m2);

	is_int(enrp_master_wrap(m, "escrow:7:alice", secret, sizeof(secret), &box, &boxlen), 0,
	       "escrow wrap");
	is_int(boxlen, sizeof(secret) + 28, "blob is nonce | ct | tag");
	ok(memmem(box, boxlen, "alice", 5) == NULL, "blob does not hold the plaintext");
	is_int(enrp_master_unwrap(m, "escrow:7:alice", box, boxlen, &out, &outlen), 0,
	       "escrow unwrap");
	ok(outlen == sizeof(secret) && memcmp(out, secret, outlen) == 0, "round trip");
	enrp_master_buf_free(out, outlen);
	out = NULL;
	is_int(enrp_master_unwrap(m, "escrow:7:bob", box, boxlen, &out, &outlen), -EKEYREJECTED,
	       "wrong label: -EKEYREJECTED");
	ok(out == NULL, "and no buffer is returned");
	is_int(enrp_master_unwrap(m2, "escrow:7:alice", box, boxlen, &out, &outlen), -EKEYREJECTED,
	       "wrong master key: -EKEYREJECTED");
	box[boxlen - 1] ^= 1;
	is_int(enrp_master_unwrap(m, "escrow:7:alice", box, boxlen, &out, &outlen), -EKEYREJECTED,
	       "damaged blob: -EKEYREJECTED");
	is_int(enrp_master_unwrap(m, "escrow:7:alice", box, 27, &out, &outlen), -EINVAL,
	       "blob shorter than nonce + tag: -EINVAL");
	enrp_master_buf_free(box, boxlen);

	is_int(enrp_master_wrap(m, "", "", 0, &box, &boxlen), 0, "wrap an empty blob");
	ok(enrp_master_unwrap(m, "", box, boxlen, &out, &outlen) == 0 && outlen == 0,
	   "unwrap an empty blob");
	enrp_master_buf_free(out, outlen);
	enrp_master_buf_free(box, boxlen);
	enrp_master_buf_free(NULL, 0);

	uint8_t *big = calloc(1, ENRP_ESCROW_MAX + 1);
	is_int(enrp_master_wrap(m, "big", big, ENRP_ESCROW_MAX + 1, &box, &boxlen), -EINVAL,
	       "blob over 1 MiB: -EINVAL");
	is_int(enrp_master_wrap(m, "big", big, ENRP_ESCROW_MAX, &box, &boxlen), 0,
	       "blob of exactly 1 MiB");
	ok(enrp_master_unwrap(m, "big", box, boxlen, &out, &outlen) == 0 &&
	   outlen == ENRP_ESCROW_MAX && all_zero(out, outlen), "round trip of 1 MiB");
	enrp_master_buf_free(out, outlen);
	enrp_master_buf_free(box, boxlen);
	free(big);

	/* Domain separation: EIR 0x41424344's AAD is "enrp eir key v1ABCD"; an
	 * escrow label spelling the same bytes must not make the blobs
	 * interchangeable in either direction. */
	uint8_t w[ENRP_WRAPPED_KEY_LEN], fake[32];
	struct enrp_eir_key k;
	memset(fake, 0x99, sizeof(fake));
	enrp_master_wrap(m, "enrp eir key v1ABCD", fake, sizeof(fake), &box, &boxlen);
	is_int(boxlen, ENRP_WRAPPED_KEY_LEN, "an escrow blob of 32 bytes has a key's size");
	is_int(enrp_master_unwrap_eir_key(m, 0x41424344, box, &k), -EKEYREJECTED,
	       "but does not unwrap as an EIR key");
	enrp_master_buf_free(box, boxlen);
	enrp_master_new_eir_key(m, 0x41424344, w, &k);
	is_int(enrp_master_unwrap(m, "enrp eir key v1ABCD", w, sizeof(w), &out, &outlen),
	       -EKEYREJECTED, "and a wrapped EIR key does not unwrap as escrow");
	enrp_eir_key_wipe(&k);

	enrp_master_free(m);
	enrp_master_free(m2);
	unlink(path_of("other.key"));
}

int main(void)
{
	tmp = tap_tmpdir();
	if (!tmp) {
		diag("cannot create a temporary directory");
		return 1;
	}
	test_create_load();
	test_refusals();
	test_eir_keys();
	test_escrow();
	tap_rmrf(tmp);
	return done_testing();
}
