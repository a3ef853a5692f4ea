/* /_ping, /version and /info: what clients negotiate with and what `docker info` shows. */
#include "api/api.h"
#include "api/http.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "common/timefmt.h"
#include "engine/engine.h"
#include "engine/shim.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

enum MHD_Result api_ping(struct api_req *r)
{
        struct MHD_Response *resp = MHD_create_response_from_buffer(2, "OK", MHD_RESPMEM_PERSISTENT);
        if (resp == NULL)
                return MHD_NO;
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
        MHD_add_response_header(resp, "Cache-Control", "no-cache, no-store, must-revalidate");
        MHD_add_response_header(resp, "Pragma", "no-cache");
        MHD_add_response_header(resp, "Swarm", "inactive");
        return api_queue(r, MHD_HTTP_OK, resp);
}

/* Go's GOARCH names, which clients compare with their own. */
static const char *go_arch(const char *machine)
{
        if (strcmp(machine, "x86_64") == 0)
                return "amd64";
        if (strcmp(machine, "aarch64") == 0)
                return "arm64";
        if (strncmp(machine, "arm", 3) == 0)
                return "arm";
        return machine;
}

enum MHD_Result api_version(struct api_req *r)
{
        struct utsname u;
        uname(&u);
        const char *arch = go_arch(u.machine);
        json_t *details = json_pack(
                "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "ApiVersion", API_VERSION, "Arch",
                arch, "BuildTime", "", "Experimental", "false", "GitCommit", "", "GoVersion", "",
                "KernelVersion", u.release, "MinAPIVersion", API_MIN_VERSION, "Os", "linux");
        json_t *v = json_pack(
                "{s:{s:s}, s:[{s:s, s:s, s:o}], s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}",
                "Platform", "Name", "Gantry", "Components", "Name", "Engine", "Version",
                API_SERVER_VERSION, "Details", details, "Version", API_SERVER_VERSION,
                "ApiVersion", API_VERSION, "MinAPIVersion", API_MIN_VERSION, "GitCommit", "",
                "GoVersion", "", "Os", "linux", "Arch", arch, "KernelVersion", u.release,
                "BuildTime", "");
        return api_reply_json(r, MHD_HTTP_OK, v);
}

/* PRETTY_NAME (or VERSION_ID with key "VERSION_ID") from /etc/os-release. */
static char *os_release(const char *key)
{
        _cleanup_fclose_ FILE *f = fopen("/etc/os-release", "re");
        if (f == NULL)
                return strdup("");
        char line[512];
        size_t kl = strlen(key);
        while (fgets(line, sizeof(line), f) != NULL) {
                if (strncmp(line, key, kl) != 0 || line[kl] != '=')
                        continue;
                char *v = line + kl + 1;
                v[strcspn(v, "\n")] = '\0';
                size_t n = strlen(v);
                if (n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0]) {
                        v[n - 1] = '\0';
                        v++;
                }
                return strdup(v);
        }
        return strdup("");
}

static int count_fds(void)
{
        DIR *d = opendir("/proc/self/fd");
        if (d == NULL)
                return 0;
        int n = 0;
        struct dirent *de;
        while ((de = readdir(d)) != NULL)
                if (de->d_name[0] != '.')
                        n++;
        closedir(d);
        return n > 0 ? n - 1 : 0; /* not the one opendir holds */
}

static bool file_is_one(const char *path)
{
        _cleanup_free_ char *s = NULL;
        return fs_read_file(path, &s, NULL, NULL) == 0 && s[0] == '1';
}

/* "2" only on a pure v2 host: hybrid hosts put the controllers on v1. */
static const char *cgroup_version(void)
{
        struct statfs sf;
        if (statfs("/sys/fs/cgroup", &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC)
                return "2";
        return "1";
}

static char *engine_id(void)
{
        _cleanup_free_ char *s = NULL;
        if (fs_read_file("/etc/machine-id", &s, NULL, NULL) < 0)
                return strdup("");
        s[strcspn(s, "\n")] = '\0';
        return TAKE_PTR(s);
}

enum MHD_Result api_info(struct api_req *r)
{
        struct utsname u;
        uname(&u);
        struct sysinfo si;
        long long mem = 0;
        if (sysinfo(&si) == 0)
                mem = (long long)si.totalram * si.mem_unit;
        char host[256] = "";
        gethostname(host, sizeof(host) - 1);
        char now[TIMEFMT_RFC3339_LEN];
        timefmt_now(now);
        _cleanup_free_ char *os = os_release("PRETTY_NAME");
        _cleanup_free_ char *osver = os_release("VERSION_ID");
        _cleanup_free_ char *id = engine_id();

        json_t *info = json_object();
        json_object_set_new(info, "ID", json_string(id));
        json_object_set_new(info, "Containers", json_integer(0));
        json_object_set_new(info, "ContainersRunning", json_integer(0));
        json_object_set_new(info, "ContainersPaused", json_integer(0));
        json_object_set_new(info, "ContainersStopped", json_integer(0));
        json_object_set_new(info, "Images", json_integer(0));
        json_object_set_new(info, "Driver", json_string("overlay2"));
        json_object_set_new(info, "DriverStatus", json_array());
        json_object_set_new(info, "Plugins",
                            json_pack("{s:[s], s:[sss], s:n, s:[s]}", "Volume", "local",
                                      "Network", "bridge", "host", "null", "Authorization",
                                      "Log", "json-file"));
        const char *yes[] = {"MemoryLimit", "SwapLimit", "CpuCfsPeriod", "CpuCfsQuota",
                             "CPUShares", "CPUSet", "PidsLimit"};
        for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
                json_object_set_new(info, yes[i], json_true());
        json_object_set_new(info, "OomKillDisable", json_false());
        json_object_set_new(info, "IPv4Forwarding",
                            json_boolean(file_is_one("/proc/sys/net/ipv4/ip_forward")));
        json_object_set_new(info, "BridgeNfIptables", json_false());
        json_object_set_new(info, "BridgeNfIp6tables", json_false());
        json_object_set_new(info, "Debug", json_false());
        json_object_set_new(info, "NFd", json_integer(count_fds()));
        json_object_set_new(info, "NGoroutines", json_integer(0));
        json_object_set_new(info, "SystemTime", json_string(now));
        json_object_set_new(info, "LoggingDriver", json_string("json-file"));
        json_object_set_new(info, "CgroupDriver", json_string("cgroupfs"));
        json_object_set_new(info, "CgroupVersion", json_string(cgroup_version()));
        json_object_set_new(info, "NEventsListener", json_integer(0));
        json_object_set_new(info, "KernelVersion", json_string(u.release));
        json_object_set_new(info, "OperatingSystem", json_string(os));
        json_object_set_new(info, "OSVersion", json_string(osver));
        json_object_set_new(info, "OSType", json_string("linux"));
        json_object_set_new(info, "Architecture", json_string(u.machine));
        json_object_set_new(info, "IndexServerAddress", json_string("https://index.docker.io/v1/"));
        json_object_set_new(
                info, "RegistryConfig",
                json_pack("{s:n, s:n, s:[s], s:{s:{s:s, s:[], s:b, s:b}}, s:[]}",
                          "AllowNondistributableArtifactsCIDRs",
                          "AllowNondistributableArtifactsHostnames", "InsecureRegistryCIDRs",
                          "127.0.0.0/8", "IndexConfigs", "docker.io", "Name", "docker.io",
                          "Mirrors", "Secure", 1, "Official", 1, "Mirrors"));
        json_object_set_new(info, "NCPU", json_integer(sysconf(_SC_NPROCESSORS_ONLN)));
        json_object_set_new(info, "MemTotal", json_integer(mem));
        json_object_set_new(info, "GenericResources", json_null());
        json_object_set_new(info, "DockerRootDir", json_string(eng_root(r->eng)));
        json_object_set_new(info, "HttpProxy", json_string(""));
        json_object_set_new(info, "HttpsProxy", json_string(""));
        json_object_set_new(info, "NoProxy", json_string(""));
        json_object_set_new(info, "Name", json_string(host));
        json_object_set_new(info, "Labels", json_array());
        json_object_set_new(info, "ExperimentalBuild", json_false());
        json_object_set_new(info, "ServerVersion", json_string(API_SERVER_VERSION));
        /* Gantry's own runtime, as dockerd reports runc: the shim runs it in-process (the runtime
         * library), so its path is the shim's. "runc" stays an accepted name for the same. */
        _cleanup_free_ char *shim = eng_find_program("gantry-shim", "GANTRY_SHIM");
        _cleanup_free_ char *init = eng_find_program("gantry-init", "GANTRY_INIT");
        const char *rt_path = shim ? shim : "gantry-shim";
        json_object_set_new(info, "Runtimes",
                            json_pack("{s:{s:s}, s:{s:s}}", "gantry", "path", rt_path, "runc",
                                      "path", rt_path));
        json_object_set_new(info, "DefaultRuntime", json_string("gantry"));
        json_object_set_new(
                info, "Swarm",
                json_pack("{s:s, s:s, s:s, s:b, s:s, s:n}", "NodeID", "", "NodeAddr", "",
                          "LocalNodeState", "inactive", "ControlAvailable", 0, "Error", "",
                          "RemoteManagers"));
        json_object_set_new(info, "LiveRestoreEnabled", json_true());
        json_object_set_new(info, "Isolation", json_string(""));
        json_object_set_new(info, "InitBinary", json_string(init ? init : "gantry-init"));
        json_object_set_new(info, "ContainerdCommit", json_pack("{s:s}", "ID", ""));
        json_object_set_new(info, "RuncCommit", json_pack("{s:s}", "ID", API_SERVER_VERSION));
        json_object_set_new(info, "InitCommit", json_pack("{s:s}", "ID", API_SERVER_VERSION));
        json_object_set_new(info, "SecurityOptions", json_pack("[s]", "name=seccomp,profile=builtin"));
        json_object_set_new(info, "CDISpecDirs", json_array());
        json_object_set_new(info, "Warnings", json_array());
        /* What the engine knows wins over the defaults above. */
        json_t *eng = eng_info(r->eng);
        if (json_is_object(eng))
                json_object_update(info, eng);
        json_decref(eng);
        return api_reply_json(r, MHD_HTTP_OK, info);
}
