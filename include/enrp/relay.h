/*
 * relay.h — how a member of a role group who is not root runs enrpctl: the
 * store stays root's alone (DESIGN §2), so their enrpctl hands its command
 * line and its standard input, output and error to the serving enrpfs over
 * a unix socket; enrpfs learns who they are from the kernel (SO_PEERCRED,
 * not from anything they send) and runs a root enrpctl on their behalf
 * with those three descriptors, which checks their roles (role.h) before
 * anything else.  Its exit status comes back as the client's.
 *
 * The socket is /run/enrp/ctl-HASH.sock, HASH the first 16 hex digits of
 * the SHA-256 of the store's real path, so any account that can name the
 * store finds its daemon, and two stores on one host never share one.  It
 * is open to every account (0666): the roles decide, in the enrpctl run
 * behind it, and a refusal is journalled there.
 *
 * The wire: one message, "ENRPRLY1" NUL, then ARGC (be32), the arguments,
 * ENVC (be32) and "NAME=VALUE" locale variables, each NUL-terminated, with
 * the three descriptors as SCM_RIGHTS; the answer is the exit status as
 * be32 (or 255 when the command could not be run).
 */
#ifndef ENRP_RELAY_H
#define ENRP_RELAY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define ENRP_RELAY_DIR "/run/enrp"
#define ENRP_RELAY_ARGS_MAX 256
#define ENRP_RELAY_MSG_MAX 65536

/* The socket of the store at STORE_PATH into BUF.  -errno of realpath,
 * -ENAMETOOLONG. */
int enrp_relay_path(const char *store_path, char *buf, size_t size);

/* Client: runs ARGV (ARGC words, the command and its arguments) through
 * the daemon at SOCK_PATH with our stdin, stdout, stderr and the locale
 * variables ENV (ENVC), and waits for it.  *STATUS gets its exit status.
 * -ENOENT/-ECONNREFUSED no daemon; -ECONNRESET the daemon went away;
 * -E2BIG too long a command line. */
int enrp_relay_run(const char *sock_path, int argc, char *const argv[], int envc,
                   char *const env[], int *status);

/* Daemon: creates the directory and listens.  Returns the descriptor. */
int enrp_relay_listen(const char *sock_path);

struct enrp_relay_request {
	int conn;              /* the connection, for enrp_relay_reply */
	uid_t uid;             /* the peer, from the kernel */
	gid_t gid;
	pid_t pid;
	int fds[3];            /* its stdin, stdout, stderr */
	int argc, envc;
	char **argv, **env;    /* NULL-terminated, into BUF */
	char *buf;
};

/* Daemon: accepts one connection and reads its request.  -EPROTO a
 * malformed one (the connection is closed), -errno of accept. */
int enrp_relay_accept(int listen_fd, struct enrp_relay_request *req);

/* Daemon: sends STATUS, closes the connection and the request's
 * descriptors, frees it. */
void enrp_relay_reply(struct enrp_relay_request *req, int status);

#endif
