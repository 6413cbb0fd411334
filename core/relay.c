/*
 * relay.c — the wire between a non-root enrpctl and the daemon (see
 * include/enrp/relay.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <openssl/evp.h>

#include <enrp/relay.h>

#include "record_int.h"

static const char MAGIC[] = "ENRPRLY1";

int enrp_relay_path(const char *store_path, char *buf, size_t size)
{
	char real[4096];
	if (!realpath(store_path, real))
		return -errno;
	uint8_t d[32];
	unsigned dl = 0;
	if (EVP_Digest(real, strlen(real), d, &dl, EVP_sha256(), NULL) != 1)
		return -EIO;
	int n = snprintf(buf, size, "%s/ctl-%02x%02x%02x%02x%02x%02x%02x%02x.sock", ENRP_RELAY_DIR,
	                 d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

static int addr_of(const char *path, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	strcpy(sa->sun_path, path);
	return 0;
}

/* Appends the NUL-terminated S to MSG at *OFF.  False when it does not fit. */
static bool put_str(uint8_t *msg, size_t *off, const char *s)
{
	size_t n = strlen(s) + 1;
	if (*off + n > ENRP_RELAY_MSG_MAX)
		return false;
	memcpy(msg + *off, s, n);
	*off += n;
	return true;
}

static bool put_u32(uint8_t *msg, size_t *off, uint32_t v)
{
	if (*off + 4 > ENRP_RELAY_MSG_MAX)
		return false;
	be32_put(msg + *off, v);
	*off += 4;
	return true;
}

int enrp_relay_run(const char *sock_path, int argc, char *const argv[], int envc,
                   char *const env[], int *status)
{
	struct sockaddr_un sa;
	int rc = addr_of(sock_path, &sa);
	if (rc)
		return rc;
	if (argc <= 0 || argc > ENRP_RELAY_ARGS_MAX || envc < 0 || envc > 16)
		return -E2BIG;
	uint8_t *msg = malloc(ENRP_RELAY_MSG_MAX);
	if (!msg)
		return -ENOMEM;
	size_t off = 0;
	bool fits = put_str(msg, &off, MAGIC) && put_u32(msg, &off, (uint32_t)argc);
	for (int i = 0; fits && i < argc; i++)
		fits = put_str(msg, &off, argv[i]);
	fits = fits && put_u32(msg, &off, (uint32_t)envc);
	for (int i = 0; fits && i < envc; i++)
		fits = put_str(msg, &off, env[i]);
	if (!fits) {
		free(msg);
		return -E2BIG;
	}
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		rc = -errno;
		free(msg);
		return rc;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		rc = -errno;
		goto out;
	}
	int fds[3] = { 0, 1, 2 };
	char cbuf[CMSG_SPACE(sizeof(fds))];
	memset(cbuf, 0, sizeof(cbuf));
	struct iovec iov = { msg, off };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
		             .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(fds));
	memcpy(CMSG_DATA(cm), fds, sizeof(fds));
	if (sendmsg(fd, &mh, MSG_NOSIGNAL) < 0) {
		rc = -errno;
		goto out;
	}
	uint8_t answer[4];
	ssize_t n;
	do
		n = recv(fd, answer, sizeof(answer), 0);
	while (n < 0 && errno == EINTR);
	if (n != 4) {
		rc = n < 0 ? -errno : -ECONNRESET;
		goto out;
	}
	*status = (int)be32_get(answer);
	rc = 0;
out:
	close(fd);
	free(msg);
	return rc;
}

int enrp_relay_listen(const char *sock_path)
{
	struct sockaddr_un sa;
	int rc = addr_of(sock_path, &sa);
	if (rc)
		return rc;
	if (mkdir(ENRP_RELAY_DIR, 0755) != 0 && errno != EEXIST)
		return -errno;
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* Only the daemon holding the store's lock gets here: a socket file
	 * left is a dead daemon's. */
	unlink(sock_path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || chmod(sock_path, 0666) != 0 ||
	    listen(fd, 16) != 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	return fd;
}

static bool get_u32(const uint8_t *msg, size_t len, size_t *off, uint32_t *v)
{
	if (*off + 4 > len)
		return false;
	*v = be32_get(msg + *off);
	*off += 4;
	return true;
}

/* Points OUT at the NUL-terminated string at *OFF. */
static bool get_str(char *msg, size_t len, size_t *off, char **out)
{
	char *end = memchr(msg + *off, '\0', len - *off);
	if (!end)
		return false;
	*out = msg + *off;
	*off = (size_t)(end - msg) + 1;
	return true;
}

static void close_fds(int fds[3])
{
	for (int i = 0; i < 3; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

int enrp_relay_accept(int listen_fd, struct enrp_relay_request *req)
{
	memset(req, 0, sizeof(*req));
	req->fds[0] = req->fds[1] = req->fds[2] = -1;
	int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return -errno;
	req->conn = fd;
	struct ucred cred;
	socklen_t cl = sizeof(cred);
	req->buf = malloc(ENRP_RELAY_MSG_MAX + 1);
	if (!req->buf || getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) != 0)
		goto bad;
	req->uid = cred.uid;
	req->gid = cred.gid;
	req->pid = cred.pid;
	/* The request comes at once: a client that connects and says nothing
	 * must not hold a thread. */
	struct timeval tv = { 10, 0 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	char cbuf[CMSG_SPACE(3 * sizeof(int))];
	struct iovec iov = { req->buf, ENRP_RELAY_MSG_MAX };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
		             .msg_controllen = sizeof(cbuf) };
	ssize_t n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
	if (n <= 0)
		goto bad;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS) {
			size_t nfd = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			int got[3];
			if (nfd != 3) {
				int *p = (int *)CMSG_DATA(cm);
				for (size_t i = 0; i < nfd; i++)
					close(p[i]);
				goto bad;
			}
			memcpy(got, CMSG_DATA(cm), sizeof(got));
			memcpy(req->fds, got, sizeof(got));
		}
	}
	if (req->fds[0] < 0 || (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)))
		goto bad;
	size_t len = (size_t)n, off = 0;
	char *magic;
	uint32_t argc, envc;
	if (!get_str(req->buf, len, &off, &magic) || strcmp(magic, MAGIC) ||
	    !get_u32((uint8_t *)req->buf, len, &off, &argc) || argc == 0 ||
	    argc > ENRP_RELAY_ARGS_MAX)
		goto bad;
	req->argv = calloc(argc + 1, sizeof(char *));
	if (!req->argv)
		goto bad;
	for (uint32_t i = 0; i < argc; i++)
		if (!get_str(req->buf, len, &off, &req->argv[i]))
			goto bad;
	if (!get_u32((uint8_t *)req->buf, len, &off, &envc) || envc > 16)
		goto bad;
	req->env = calloc(envc + 1, sizeof(char *));
	if (!req->env)
		goto bad;
	for (uint32_t i = 0; i < envc; i++)
		if (!get_str(req->buf, len, &off, &req->env[i]) || !strchr(req->env[i], '='))
			goto bad;
	if (off != len)
		goto bad;
	req->argc = (int)argc;
	req->envc = (int)envc;
	return 0;
bad:
	close_fds(req->fds);
	close(fd);
	free(req->argv);
	free(req->env);
	free(req->buf);
	memset(req, 0, sizeof(*req));
	return -EPROTO;
}

void enrp_relay_reply(struct enrp_relay_request *req, int status)
{
	uint8_t answer[4];
	be32_put(answer, (uint32_t)status);
	(void)!send(req->conn, answer, sizeof(answer), MSG_NOSIGNAL);
	close(req->conn);
	close_fds(req->fds);
	free(req->argv);
	free(req->env);
	free(req->buf);
	memset(req, 0, sizeof(*req));
}
