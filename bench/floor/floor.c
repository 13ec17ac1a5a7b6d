/*
 * The floor of the benchmark: the least work a socketmap server can do. One epoll loop per CPU
 * (SO_REUSEPORT listeners, so the kernel spreads connections), and every complete netstring
 * answered with one precomputed reply ("OK secure match=... "), written once per read batch. No
 * parsing beyond the framing, no lookups, no allocation per request. Anything a real server does
 * costs on top of this, on the same machine in the same run.
 *
 *   floor PORT [THREADS]    listens on 127.0.0.1:PORT until killed (THREADS: default, the CPUs)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_EVENTS 64
#define BUF 65536
#define MAX_CONN 4096

static const char REPLY[] = "OK secure match=mx.s0.bench.test servername=hostname";

struct conn {
    int used;            /* bytes of a partial request kept from the last read */
    char in[BUF];
};

static struct conn *conns[MAX_CONN];
static char frame[256];
static int frame_len;

static void nonblock(int fd) { fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); }

/* Counts the complete netstrings in c->in, keeps the partial tail; -1 on a framing error. */
static int complete_requests(struct conn *c)
{
    int n = 0, pos = 0;
    for (;;) {
        int len = 0, i = pos;
        while (i < c->used && c->in[i] >= '0' && c->in[i] <= '9' && i - pos < 6)
            len = len * 10 + (c->in[i++] - '0');
        if (i >= c->used)
            break;
        if (c->in[i] != ':' || i == pos)
            return -1;
        if (i + 1 + len + 1 > c->used)
            break;
        if (c->in[i + 1 + len] != ',')
            return -1;
        pos = i + 1 + len + 1;
        n++;
    }
    memmove(c->in, c->in + pos, (size_t)(c->used - pos));
    c->used -= pos;
    return n;
}

static int reply(int fd, int count)
{
    static __thread char out[BUF];
    while (count > 0) {
        int batch = count < (int)(sizeof out / (size_t)frame_len) ? count : (int)(sizeof out / (size_t)frame_len);
        for (int i = 0; i < batch; i++)
            memcpy(out + i * frame_len, frame, (size_t)frame_len);
        ssize_t left = (ssize_t)batch * frame_len, off = 0;
        while (left > 0) {  /* blocking-style retry: the load client always reads */
            ssize_t w = write(fd, out + off, (size_t)left);
            if (w < 0 && (errno == EAGAIN || errno == EINTR))
                continue;
            if (w <= 0)
                return -1;
            off += w;
            left -= w;
        }
        count -= batch;
    }
    return 0;
}

static unsigned short port;

static void *loop(void *arg)
{
    (void)arg;
    int ls = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    setsockopt(ls, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(ls, (struct sockaddr *)&a, sizeof a) < 0 || listen(ls, 1024) < 0) {
        perror("floor: listen");
        exit(1);
    }
    nonblock(ls);
    int ep = epoll_create1(0);
    struct epoll_event ev = { .events = EPOLLIN, .data.fd = ls }, events[MAX_EVENTS];
    epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);
    for (;;) {
        int n = epoll_wait(ep, events, MAX_EVENTS, -1);
        for (int i = 0; i < n; i++) {
            int fd = events[i].data.fd;
            if (fd == ls) {
                int c;
                while ((c = accept(ls, NULL, NULL)) >= 0) {
                    if (c >= MAX_CONN) {
                        close(c);
                        continue;
                    }
                    nonblock(c);
                    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    if (!conns[c])
                        conns[c] = calloc(1, sizeof(struct conn));
                    conns[c]->used = 0;
                    struct epoll_event cev = { .events = EPOLLIN, .data.fd = c };
                    epoll_ctl(ep, EPOLL_CTL_ADD, c, &cev);
                }
                continue;
            }
            struct conn *c = conns[fd];
            ssize_t r = read(fd, c->in + c->used, (size_t)(BUF - c->used));
            if (r < 0 && (errno == EAGAIN || errno == EINTR))
                continue;
            int count = r > 0 ? (c->used += (int)r, complete_requests(c)) : -1;
            if (count < 0 || (count > 0 && reply(fd, count) < 0) || c->used == BUF) {
                epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
                close(fd);
            }
        }
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: floor PORT [THREADS]\n");
        return 64;
    }
    frame_len = snprintf(frame, sizeof frame, "%zu:%s,", strlen(REPLY), REPLY);
    port = (unsigned short)atoi(argv[1]);
    long threads = argc == 3 ? atol(argv[2]) : sysconf(_SC_NPROCESSORS_ONLN);
    if (threads < 1)
        threads = 1;
    pthread_t t;
    for (long i = 1; i < threads; i++)
        pthread_create(&t, NULL, loop, NULL);
    loop(NULL);
    return 0;
}
