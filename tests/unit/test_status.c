/*
 * test_status.c — the .enrp/ files: "status" key: value lines with usage and
 * pending count, "pending" listing the EIR's spool-backed regular files
 * (escaped, relative to the EIR directory, depth first in name order), and
 * the still-empty "SHA256SUMS".
 */
#include <errno.h>
#include <string.h>

#include <enrp/eir.h>
#include <enrp/ns.h>
#include <enrp/status.h>

#include "../tap.h"

static enrp_store *st;

static char *render(uint32_t id, enum enrp_status_file f, int *rc)
{
	char *buf = NULL;
	size_t len = 0;
	*rc = enrp_status_render(st, id, f, &buf, &len);
	if (!*rc && strlen(buf) != len)
		diag("length %zu disagrees with the text", len);
	return buf;
}

int main(void)
{
	const char *tmp = tap_tmpdir();
	char path[256];
	struct enrp_actor actor;
	struct enrp_eir spec, e;
	struct enrp_stat a, d, sub;
	struct enrp_caller owner = { 1000, 1000, 1 };
	int rc;

	if (!tmp) {
		printf("Bail out! cannot make a temporary directory\n");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/store", tmp);
	if (enrp_store_create(path) || enrp_store_open(path, 0, &st)) {
		printf("Bail out! cannot create a store\n");
		return 1;
	}
	enrp_actor_self(&actor, "test_status");

	is_str(enrp_status_file_name(ENRP_STATUS_STATUS), "status", "name of status");
	is_str(enrp_status_file_name(ENRP_STATUS_SHA256SUMS), "SHA256SUMS", "name of SHA256SUMS");
	is_str(enrp_status_file_name(ENRP_STATUS_PENDING), "pending", "name of pending");

	enrp_eir_defaults(&spec, "billing");
	spec.owner_uid = 1000;
	spec.owner_gid = 1000;
	spec.eir_class = 2;
	spec.quota = 1 << 20;
	is_int(enrp_eir_create(st, &spec, &actor, &e), 0, "create billing");

	char *buf = render(e.id, ENRP_STATUS_PENDING, &rc);
	ok(rc == 0 && buf && buf[0] == '\0', "pending of an empty EIR is empty");
	free(buf);

	is_int(enrp_ns_mknod(st, &owner, e.root_ino, "a", S_IFREG | 0644, 0, NULL, &a), 0, "file a");
	is_int(enrp_ns_mknod(st, &owner, e.root_ino, "d", S_IFDIR | 0755, 0, NULL, &d), 0, "dir d");
	is_int(enrp_ns_mknod(st, &owner, d.st.st_ino, "b\\x\nc", S_IFREG | 0644, 0, NULL, &sub), 0,
	       "file with a backslash and a newline in its name");
	is_int(enrp_ns_mknod(st, &owner, d.st.st_ino, "link", S_IFLNK | 0777, 0, "a", &sub), 0,
	       "symlink (not a pending file)");
	is_int(enrp_ns_mknod(st, &owner, d.st.st_ino, "e", S_IFDIR | 0755, 0, NULL, &sub), 0,
	       "dir d/e");
	is_int(enrp_ns_mknod(st, &owner, sub.st.st_ino, "f", S_IFREG | 0600, 0, NULL, &sub), 0,
	       "file d/e/f");

	buf = render(e.id, ENRP_STATUS_PENDING, &rc);
	is_int(rc, 0, "pending renders");
	is_str(buf, "a\nd/b\\\\x\\nc\nd/e/f\n", "pending lists every spool file, escaped");
	free(buf);

	buf = render(e.id, ENRP_STATUS_STATUS, &rc);
	is_int(rc, 0, "status renders");
	static const char head[] = "eir: billing\nmode: rw\nstate: normal\nclass: 2\n"
	                           "owner_uid: 1000\nquota: 1048576\n";
	ok(buf && strncmp(buf, head, strlen(head)) == 0, "status: identity, mode, state, quota");
	ok(buf && strstr(buf, "\npending_files: 3\n"), "status: pending_files counts the files");
	ok(buf && strstr(buf, "\nusage_bytes: "), "status: usage_bytes");
	ok(buf && strstr(buf, "\nfiles: "), "status: files");
	ok(buf && !strstr(buf, "escalated_until"), "status: no escalation line when not escalated");
	ok(buf && !strstr(buf, "state_reason"), "status: no state_reason when normal");
	ok(buf && strstr(buf, "\nlast_verified_transfer: none\n"), "status: last verified transfer");
	free(buf);

	buf = render(e.id, ENRP_STATUS_SHA256SUMS, &rc);
	ok(rc == 0 && buf && buf[0] == '\0', "SHA256SUMS is empty until files are sealed");
	free(buf);

	buf = (char *)1;
	size_t len = 1;
	is_int(enrp_status_render(st, 999, ENRP_STATUS_STATUS, &buf, &len), -ENOENT,
	       "unknown EIR: -ENOENT");
	ok(buf == NULL && len == 0, "and no buffer");
	is_int(enrp_status_render(st, e.id, (enum enrp_status_file)7, &buf, &len), -EINVAL,
	       "unknown file: -EINVAL");

	enrp_store_close(st);
	tap_rmrf(tmp);
	return done_testing();
}
