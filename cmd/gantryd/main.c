/* gantryd: flags, the engine, the API server on its socket, and a clean stop on SIGTERM. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <malloc.h>
#include <signal.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/api.h"
#include "common/cleanup.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "engine/engine.h"
#include "image/registry.h"

static int sig_pipe[2] = {-1, -1};

/* Handlers, not a blocked mask or SIG_IGN: both would be inherited by the shims and through them
 * by containers, while a caught signal goes back to default at exec. */
static void on_stop_signal(int sig)
{
        int saved = errno;
        unsigned char b = (unsigned char)sig;
        (void)!write(sig_pipe[1], &b, 1);
        errno = saved;
}

static void on_sigpipe(int sig)
{
        /* Writes to a closed client then fail with EPIPE instead of killing the daemon. */
}

static void usage(FILE *f)
{
        fprintf(f, "Usage: gantryd [OPTIONS]\n\n"
                   "The Gantry daemon: serves the Docker Engine API.\n\n"
                   "  -H, --host unix:///PATH   socket to listen on (default unix:///run/gantry/gantry.sock)\n"
                   "      --root DIR            persistent state (default /var/lib/gantry)\n"
                   "      --exec-root DIR       runtime state (default /run/gantry)\n"
                   "  -l, --log-level LEVEL     error, warn, info or debug (default info)\n"
                   "  -D, --debug               same as --log-level debug\n"
                   "  -p, --pidfile FILE        write the daemon's pid there\n"
                   "      --insecure-registry H  registry (host:port or CIDR) allowed over plain\n"
                   "                            HTTP or unverified TLS (repeatable)\n"
                   "      --registry-mirror URL  mirror tried first for docker.io (repeatable)\n"
                   "      --certs-dir DIR       per-registry CAs and client certs (default\n"
                   "                            /etc/docker/certs.d)\n"
                   "      --network-prefix P    names of the default bridge (P0), user bridges\n"
                   "                            (P-<id>) and the nftables tables (default gantry)\n"
                   "  -b, --bridge NAME         the default bridge network's device (default P0)\n"
                   "      --bip CIDR            the default bridge's address (default: picked)\n"
                   "      --mtu N               the default bridge's MTU (default 1500)\n"
                   "      --no-fast-path        containers of a bridge network reach each other\n"
                   "                            through the bridge only (default: past it, by a\n"
                   "                            tcx program on their veths)\n"
                   "      --default-address-pool base=A.B.C.D/N,size=M\n"
                   "                            subnets of new networks (repeatable; default\n"
                   "                            dockerd's 172.17-31.0.0/16 and 192.168.0.0/16)\n"
                   "      --dns IP              nameserver of containers without --dns, and the\n"
                   "                            embedded resolver's upstream (repeatable;\n"
                   "                            default: the host's resolv.conf)\n"
                   "  -v, --version             print the version and exit\n");
}

static int parse_level(const char *s, enum log_level *out)
{
        static const struct {
                const char *name;
                enum log_level lvl;
        } levels[] = {{"error", LOG_LVL_ERROR}, {"fatal", LOG_LVL_ERROR}, {"warn", LOG_LVL_WARN},
                      {"warning", LOG_LVL_WARN}, {"info", LOG_LVL_INFO}, {"debug", LOG_LVL_DEBUG}};
        for (size_t i = 0; i < ARRAY_SIZE(levels); i++) {
                if (strcmp(s, levels[i].name) == 0) {
                        *out = levels[i].lvl;
                        return 0;
                }
        }
        return -EINVAL;
}

int main(int argc, char **argv)
{
        const char *host = "unix:///run/gantry/gantry.sock";
        const char *root = "/var/lib/gantry";
        const char *exec_root = "/run/gantry";
        const char *pidfile = NULL;
        const char *net_prefix = NULL, *bridge = NULL, *bip = NULL, *mtu = NULL;
        bool no_fast_path = false;
        const char *pools[17] = {NULL};
        size_t n_pools = 0;
        enum log_level level = LOG_LVL_INFO;
        /* A thread per connection would each get an arena of its own (64 MiB reserved, pages
         * left resident after the request): one arena shared by all, trimmed after each request
         * (api/server.c), keeps the idle daemon small. */
        mallopt(M_ARENA_MAX, 1);
        const char *insecure[65] = {NULL}, *mirrors[17] = {NULL};
        const char *dns[9] = {NULL};
        size_t n_insecure = 0, n_mirrors = 0, n_dns = 0;
        struct img_registry_config reg = {.insecure = insecure, .mirrors = mirrors};
        static const struct option opts[] = {
                {"insecure-registry", required_argument, NULL, 'I'},
                {"registry-mirror", required_argument, NULL, 'M'},
                {"certs-dir", required_argument, NULL, 'C'},
                {"host", required_argument, NULL, 'H'},
                {"root", required_argument, NULL, 'r'},
                {"data-root", required_argument, NULL, 'r'},
                {"exec-root", required_argument, NULL, 'e'},
                {"log-level", required_argument, NULL, 'l'},
                {"debug", no_argument, NULL, 'D'},
                {"pidfile", required_argument, NULL, 'p'},
                {"network-prefix", required_argument, NULL, 'N'},
                {"bridge", required_argument, NULL, 'b'},
                {"bip", required_argument, NULL, 'B'},
                {"mtu", required_argument, NULL, 'U'},
                {"no-fast-path", no_argument, NULL, 'F'},
                {"default-address-pool", required_argument, NULL, 'P'},
                {"dns", required_argument, NULL, 'S'},
                {"version", no_argument, NULL, 'v'},
                {"help", no_argument, NULL, 'h'},
                {0},
        };
        int c;
        while ((c = getopt_long(argc, argv, "H:l:Dp:b:vh", opts, NULL)) != -1) {
                switch (c) {
                case 'H':
                        host = optarg;
                        break;
                case 'r':
                        root = optarg;
                        break;
                case 'e':
                        exec_root = optarg;
                        break;
                case 'l':
                        if (parse_level(optarg, &level) < 0) {
                                fprintf(stderr, "gantryd: unknown log level %s\n", optarg);
                                return 2;
                        }
                        break;
                case 'D':
                        level = LOG_LVL_DEBUG;
                        break;
                case 'p':
                        pidfile = optarg;
                        break;
                case 'I':
                        if (n_insecure + 1 >= ARRAY_SIZE(insecure)) {
                                fprintf(stderr, "gantryd: too many --insecure-registry\n");
                                return 2;
                        }
                        insecure[n_insecure++] = optarg;
                        break;
                case 'M':
                        if (n_mirrors + 1 >= ARRAY_SIZE(mirrors)) {
                                fprintf(stderr, "gantryd: too many --registry-mirror\n");
                                return 2;
                        }
                        if (strncmp(optarg, "http://", 7) != 0 && strncmp(optarg, "https://", 8) != 0) {
                                fprintf(stderr, "gantryd: --registry-mirror %s: must start with "
                                                "http:// or https://\n", optarg);
                                return 2;
                        }
                        mirrors[n_mirrors++] = optarg;
                        break;
                case 'C':
                        reg.certs_dir = optarg;
                        break;
                case 'N':
                        net_prefix = optarg;
                        break;
                case 'b':
                        bridge = optarg;
                        break;
                case 'B':
                        bip = optarg;
                        break;
                case 'U':
                        mtu = optarg;
                        break;
                case 'F':
                        no_fast_path = true;
                        break;
                case 'P':
                        if (n_pools + 1 >= ARRAY_SIZE(pools)) {
                                fprintf(stderr, "gantryd: too many --default-address-pool\n");
                                return 2;
                        }
                        pools[n_pools++] = optarg;
                        break;
                case 'S':
                        if (n_dns + 1 >= ARRAY_SIZE(dns)) {
                                fprintf(stderr, "gantryd: too many --dns\n");
                                return 2;
                        }
                        dns[n_dns++] = optarg;
                        break;
                case 'v':
                        printf("Gantry version %s, API %s\n", API_SERVER_VERSION, API_VERSION);
                        return 0;
                case 'h':
                        usage(stdout);
                        return 0;
                default:
                        usage(stderr);
                        return 2;
                }
        }
        if (optind < argc) {
                fprintf(stderr, "gantryd: unexpected argument %s\n", argv[optind]);
                return 2;
        }
        if (strncmp(host, "unix://", 7) != 0 || host[7] != '/') {
                fprintf(stderr, "gantryd: --host %s: only unix:///absolute/path is supported\n",
                        host);
                return 2;
        }
        const char *sock = host + 7;
        log_init(NULL, false, level);

        if (pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
                fprintf(stderr, "gantryd: pipe: %m\n");
                return 1;
        }
        struct sigaction sa = {.sa_handler = on_stop_signal, .sa_flags = SA_RESTART};
        sigemptyset(&sa.sa_mask);
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
        sa.sa_handler = on_sigpipe;
        sigaction(SIGPIPE, &sa, NULL);

        _cleanup_gerr_ struct gerr *err = NULL;
        _cleanup_free_ char *sock_dir_buf = strdup(sock);
        if (sock_dir_buf == NULL || fs_mkdir_p(dirname(sock_dir_buf), 0755, &err) < 0 ||
            fs_mkdir_p(root, 0711, &err) < 0 || fs_mkdir_p(exec_root, 0711, &err) < 0) {
                fprintf(stderr, "gantryd: %s\n", err && err->msg ? err->msg : "out of memory");
                return 1;
        }
        struct eng_config cfg = {.root = root, .exec_root = exec_root, .registry = &reg,
                                 .network_prefix = net_prefix, .bridge = bridge, .bip = bip,
                                 .dns = dns, .mtu = mtu, .address_pools = pools,
                                 .no_fast_path = no_fast_path};
        struct eng *e = NULL;
        if (eng_open(&cfg, &e, &err) < 0) {
                fprintf(stderr, "gantryd: %s\n", err && err->msg ? err->msg : "cannot open the engine");
                return 1;
        }
        struct api_server *srv = NULL;
        if (api_start(e, sock, &srv, &err) < 0) {
                fprintf(stderr, "gantryd: %s\n", err && err->msg ? err->msg : "cannot serve");
                eng_close(e);
                return 1;
        }
        if (pidfile != NULL) {
                char pid[32];
                int n = snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
                if (fs_write_file_atomic(pidfile, pid, (size_t)n, 0644, &err) < 0) {
                        fprintf(stderr, "gantryd: %s\n", err->msg);
                        api_stop(srv);
                        eng_close(e);
                        return 1;
                }
        }
        log_info("gantryd %s: API %s on %s, root %s, exec-root %s", API_SERVER_VERSION,
                 API_VERSION, sock, root, exec_root);

        int sig = 0;
        for (;;) {
                unsigned char b;
                ssize_t n = read(sig_pipe[0], &b, 1);
                if (n == 1) {
                        sig = b;
                        break;
                }
                if (n < 0 && errno != EAGAIN && errno != EINTR)
                        break;
                /* Non-blocking pipe (the handler must never block): wait for it to fill. */
                /* poll, not select: the pipe's number may be past FD_SETSIZE. */
                struct pollfd pfd = {.fd = sig_pipe[0], .events = POLLIN};
                poll(&pfd, 1, -1);
        }
        log_info("gantryd: %s, shutting down", strsignal(sig));
        /* Containers and their shims keep running: only the daemon goes. */
        bool idle = api_stop(srv);
        if (pidfile != NULL)
                unlink(pidfile);
        if (idle)
                eng_close(e);
        else
                log_warn("gantryd: requests still inside the engine; leaving it to exit");
        return 0;
}
