/* Unit tests for image/: docker load/save/import, layers with whiteouts, names, rmi, safety. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cmocka.h>
#include <nettle/sha2.h>

#include "common/cleanup.h"
#include "common/db.h"
#include "common/fsutil.h"
#include "image/image.h"

static char tmp[64];
static sqlite3 *db;
static struct img_store *store;

struct tent {
        int type; /* AE_IFREG, AE_IFDIR, AE_IFLNK, or 0 for a hardlink */
        const char *path;
        const char *data; /* file content, symlink or hardlink target */
};

static char *tpath(const char *rel)
{
        static char buf[4][1024];
        static int i;
        i = (i + 1) % 4;
        snprintf(buf[i], sizeof(buf[i]), "%s/%s", tmp, rel);
        return buf[i];
}

static void write_tar(const char *path, const struct tent *t, size_t n, bool gzip)
{
        struct archive *a = archive_write_new();
        archive_write_set_format_pax_restricted(a);
        if (gzip)
                archive_write_add_filter_gzip(a);
        assert_int_equal(archive_write_open_filename(a, path), ARCHIVE_OK);
        for (size_t i = 0; i < n; i++) {
                struct archive_entry *e = archive_entry_new();
                archive_entry_set_pathname(e, t[i].path);
                archive_entry_set_mtime(e, 1700000000, 0);
                if (t[i].type == 0) {
                        archive_entry_set_filetype(e, AE_IFREG);
                        archive_entry_set_perm(e, 0755);
                        archive_entry_set_hardlink(e, t[i].data);
                } else {
                        archive_entry_set_filetype(e, (unsigned)t[i].type);
                        archive_entry_set_perm(e, t[i].type == AE_IFDIR ? 0755 : 0644);
                        if (t[i].type == AE_IFLNK)
                                archive_entry_set_symlink(e, t[i].data);
                        if (t[i].type == AE_IFREG)
                                archive_entry_set_size(e, t[i].data ? (la_int64_t)strlen(t[i].data)
                                                                    : 0);
                }
                assert_true(archive_write_header(a, e) >= ARCHIVE_WARN);
                if (t[i].type == AE_IFREG && t[i].data)
                        archive_write_data(a, t[i].data, strlen(t[i].data));
                archive_entry_free(e);
        }
        archive_write_close(a);
        archive_write_free(a);
}

static void sha256_file(const char *path, char hex[65])
{
        _cleanup_free_ char *data = NULL;
        size_t len = 0;
        assert_int_equal(fs_read_file(path, &data, &len, NULL), 0);
        struct sha256_ctx ctx;
        unsigned char md[SHA256_DIGEST_SIZE];
        sha256_init(&ctx);
        sha256_update(&ctx, len, (const uint8_t *)data);
        sha256_digest(&ctx, sizeof(md), md);
        for (int i = 0; i < 32; i++)
                sprintf(hex + 2 * i, "%02x", md[i]);
}

static const struct tent layer1[] = {
    {AE_IFDIR, "etc/", NULL},       {AE_IFREG, "etc/hello", "hello\n"}, {AE_IFDIR, "./bin", NULL},
    {AE_IFREG, "bin/sh", "#!sh\n"}, {AE_IFLNK, "bin/link", "sh"},       {0, "bin/hard", "bin/sh"},
    {AE_IFDIR, "opq", NULL},        {AE_IFREG, "opq/.wh..wh..opq", ""}, {AE_IFREG, "opq/kept", "k"},
    {AE_IFREG, ".wh.removed", ""},
};
static const struct tent layer2[] = {
    {AE_IFREG, "etc/.wh.hello", ""},
    {AE_IFREG, "etc/new", "new\n"},
};

/* An archive at tmp/<name> with the given layers; bad_diff corrupts the config's diff id. */
static void make_archive_ex(const char *name, const struct tent *const *layers,
                            const size_t *counts, size_t nl, const char *tag, bool bad_diff,
                            char cfg_hex_out[65])
{
        json_t *diffs = json_array(), *lpaths = json_array();
        char files[8][256];
        for (size_t i = 0; i < nl; i++) {
                snprintf(files[i], sizeof(files[i]), "%s", tpath("layerN.tar"));
                files[i][strlen(files[i]) - 5] = (char)('0' + i);
                write_tar(files[i], layers[i], counts[i], false);
                char hex[65];
                sha256_file(files[i], hex);
                if (bad_diff)
                        hex[0] = hex[0] == 'a' ? 'b' : 'a';
                json_array_append_new(diffs, json_sprintf("sha256:%s", hex));
                json_array_append_new(lpaths, json_sprintf("l%zu/layer.tar", i));
        }
        json_t *cfg = json_pack("{s:s, s:s, s:{s:[s], s:{s:s}}, s:s, s:{s:s, s:o},"
                                " s:[{s:s, s:s}, {s:s, s:b}, {s:s}]}",
                                "architecture", "amd64", "os", "linux", "config", "Cmd", "sh",
                                "Labels", "a", "b", "created", "2024-01-02T03:04:05Z", "rootfs",
                                "type", "layers", "diff_ids", diffs, "history", "created",
                                "2024-01-02T03:04:05Z", "created_by", "ADD rootfs", "created_by",
                                "CMD", "empty_layer", true, "created_by", "RUN rm");
        char *cfg_text = json_dumps(cfg, JSON_COMPACT);
        char cfg_hex[65], cfg_name[80];
        assert_int_equal(fs_write_file(tpath("cfg"), cfg_text, strlen(cfg_text), NULL), 0);
        sha256_file(tpath("cfg"), cfg_hex);
        snprintf(cfg_name, sizeof(cfg_name), "%s.json", cfg_hex);
        json_t *man = json_pack("[{s:s, s:o}]", "Config", cfg_name, "Layers", lpaths);
        json_object_set_new(json_array_get(man, 0), "RepoTags",
                            tag ? json_pack("[s]", tag) : json_null());
        char *man_text = json_dumps(man, JSON_COMPACT);

        struct archive *a = archive_write_new();
        archive_write_set_format_pax_restricted(a);
        assert_int_equal(archive_write_open_filename(a, tpath(name)), ARCHIVE_OK);
        /* manifest.json first: the loader must not depend on entry order. */
        const char *names[10] = {"manifest.json", cfg_name, "repositories"};
        const char *srcs[10] = {NULL, tpath("cfg"), NULL};
        char lnames[8][32];
        for (size_t i = 0; i < nl; i++) {
                snprintf(lnames[i], sizeof(lnames[i]), "l%zu/layer.tar", i);
                names[3 + i] = lnames[i];
                srcs[3 + i] = files[i];
        }
        for (size_t i = 0; i < 3 + nl; i++) {
                _cleanup_free_ char *data = NULL;
                size_t len = 0;
                if (i == 0)
                        data = strdup(man_text), len = strlen(man_text);
                else if (i == 2)
                        data = strdup("{}"), len = 2;
                else
                        assert_int_equal(fs_read_file(srcs[i], &data, &len, NULL), 0);
                struct archive_entry *e = archive_entry_new();
                archive_entry_set_pathname(e, names[i]);
                archive_entry_set_filetype(e, AE_IFREG);
                archive_entry_set_perm(e, 0644);
                archive_entry_set_size(e, (la_int64_t)len);
                assert_true(archive_write_header(a, e) >= ARCHIVE_WARN);
                archive_write_data(a, data, len);
                archive_entry_free(e);
        }
        archive_write_close(a);
        archive_write_free(a);
        free(cfg_text);
        free(man_text);
        json_decref(cfg);
        json_decref(man);
        if (cfg_hex_out)
                memcpy(cfg_hex_out, cfg_hex, 65);
}

static void make_archive(const char *name, const char *tag, char cfg_hex[65])
{
        const struct tent *ls[] = {layer1, layer2};
        size_t ns[] = {ARRAY_SIZE(layer1), ARRAY_SIZE(layer2)};
        make_archive_ex(name, ls, ns, 2, tag, false, cfg_hex);
}

static int load_file(struct img_store *s, const char *name, json_t **loaded, struct gerr **err)
{
        _cleanup_close_ int fd = open(tpath(name), O_RDONLY);
        assert_true(fd >= 0);
        return img_load(s, fd, loaded, err);
}

static int open_store(const char *sub, sqlite3 **d, struct img_store **s)
{
        char p[512];
        snprintf(p, sizeof(p), "%s/%s.db", tmp, sub);
        if (db_open(p, d, NULL) < 0)
                return -1;
        snprintf(p, sizeof(p), "%s/%s", tmp, sub);
        return img_store_open(*d, p, s, NULL);
}

static int setup(void **state)
{
        strcpy(tmp, "/tmp/gantry-image.XXXXXX");
        if (mkdtemp(tmp) == NULL)
                return -1;
        return open_store("root", &db, &store);
}

static int teardown(void **state)
{
        img_store_close(store);
        db_close(db);
        store = NULL;
        db = NULL;
        return fs_rm_rf(tmp);
}

static size_t count_dir(const char *rel)
{
        char cmd[600];
        snprintf(cmd, sizeof(cmd), "ls -A %s | wc -l", tpath(rel));
        FILE *f = popen(cmd, "r");
        size_t n = 0;
        if (fscanf(f, "%zu", &n) != 1)
                n = 999;
        pclose(f);
        return n;
}

static void test_load_layers(void **state)
{
        char cfg_hex[65];
        make_archive("a.tar", "busybox:latest", cfg_hex);
        _cleanup_json_ json_t *loaded = NULL;
        _cleanup_gerr_ struct gerr *err = NULL;
        assert_int_equal(load_file(store, "a.tar", &loaded, &err), 0);
        assert_string_equal(json_string_value(json_array_get(loaded, 0)),
                            "Loaded image: busybox:latest");
        char want[80];
        snprintf(want, sizeof(want), "sha256:%s", cfg_hex);
        const char *refs[] = {"busybox", "busybox:latest", "docker.io/library/busybox:latest",
                              want,      want + 7,         "sha256:abc",
                              NULL};
        char short_id[20];
        snprintf(short_id, sizeof(short_id), "%.12s", cfg_hex);
        refs[5] = short_id;
        for (int i = 0; refs[i]; i++) {
                _cleanup_free_ char *id = NULL;
                assert_int_equal(img_resolve(store, refs[i], &id, NULL), 0);
                assert_string_equal(id, want);
        }
        _cleanup_free_ char *none = NULL;
        _cleanup_gerr_ struct gerr *e2 = NULL;
        assert_int_equal(img_resolve(store, "nosuch", &none, &e2), -ENOENT);
        assert_string_equal(e2->msg, "No such image: nosuch");

        _cleanup_strv_ char **dirs = NULL;
        assert_int_equal(img_layer_dirs(store, want, &dirs, NULL), 0);
        assert_non_null(dirs[0]);
        assert_non_null(dirs[1]);
        assert_null(dirs[2]);
        char p[600];
        struct stat st;
        /* Top layer: the whiteout of etc/hello is a 0:0 char device, etc/new is there. */
        snprintf(p, sizeof(p), "%s/etc/hello", dirs[0]);
        assert_int_equal(lstat(p, &st), 0);
        assert_true(S_ISCHR(st.st_mode));
        assert_int_equal(st.st_rdev, makedev(0, 0));
        snprintf(p, sizeof(p), "%s/etc/new", dirs[0]);
        assert_int_equal(lstat(p, &st), 0);
        assert_true(S_ISREG(st.st_mode));
        /* Bottom layer. */
        _cleanup_free_ char *hello = NULL;
        snprintf(p, sizeof(p), "%s/etc/hello", dirs[1]);
        assert_int_equal(fs_read_file(p, &hello, NULL, NULL), 0);
        assert_string_equal(hello, "hello\n");
        snprintf(p, sizeof(p), "%s/bin/link", dirs[1]);
        char target[64] = {0};
        assert_int_equal(readlink(p, target, sizeof(target) - 1), 2);
        assert_string_equal(target, "sh");
        snprintf(p, sizeof(p), "%s/bin/hard", dirs[1]);
        assert_int_equal(lstat(p, &st), 0);
        assert_int_equal(st.st_nlink, 2);
        assert_int_equal(st.st_mode & 07777, 0644);
        snprintf(p, sizeof(p), "%s/opq", dirs[1]);
        char x[4] = {0};
        assert_int_equal(getxattr(p, "trusted.overlay.opaque", x, sizeof(x)), 1);
        assert_string_equal(x, "y");
        snprintf(p, sizeof(p), "%s/opq/.wh..wh..opq", dirs[1]);
        assert_int_not_equal(lstat(p, &st), 0);
        snprintf(p, sizeof(p), "%s/removed", dirs[1]);
        assert_int_equal(lstat(p, &st), 0);
        assert_true(S_ISCHR(st.st_mode));
        /* The uncompressed layer tars are kept as blobs: the config plus two layers remain. */
        assert_int_equal(count_dir("root/blobs/sha256"), 3);

        _cleanup_json_ json_t *insp = NULL;
        assert_int_equal(img_inspect(store, "busybox", &insp, NULL), 0);
        assert_string_equal(json_string_value(json_object_get(insp, "Id")), want);
        assert_string_equal(json_string_value(json_array_get(json_object_get(insp, "RepoTags"), 0)),
                            "busybox:latest");
        assert_string_equal(json_string_value(json_object_get(insp, "Os")), "linux");
        assert_string_equal(json_string_value(json_object_get(insp, "Created")),
                            "2024-01-02T03:04:05Z");
        json_t *cmd = json_object_get(json_object_get(insp, "Config"), "Cmd");
        assert_string_equal(json_string_value(json_array_get(cmd, 0)), "sh");
        json_t *rootfs = json_object_get(insp, "RootFS");
        assert_int_equal(json_array_size(json_object_get(rootfs, "Layers")), 2);
        json_t *gd = json_object_get(insp, "GraphDriver");
        assert_string_equal(json_string_value(json_object_get(gd, "Name")), "overlay2");
        assert_string_equal(
            json_string_value(json_object_get(json_object_get(gd, "Data"), "UpperDir")), dirs[0]);
        assert_true(json_integer_value(json_object_get(insp, "Size")) > 0);

        _cleanup_json_ json_t *list = NULL, *f1 = json_pack("{s:[s]}", "dangling", "true"),
                              *f2 = json_pack("{s:[s]}", "reference", "busybox"),
                              *f3 = json_pack("{s:[s]}", "label", "a=b"),
                              *f4 = json_pack("{s:[s]}", "reference", "other*");
        assert_int_equal(img_list(store, false, NULL, &list, NULL), 0);
        assert_int_equal(json_array_size(list), 1);
        json_t *e = json_array_get(list, 0);
        assert_string_equal(json_string_value(json_object_get(e, "Id")), want);
        assert_int_equal(json_integer_value(json_object_get(e, "Created")), 1704164645);
        assert_string_equal(json_string_value(json_object_get(json_object_get(e, "Labels"), "a")),
                            "b");
        assert_int_equal(json_integer_value(json_object_get(e, "Containers")), -1);
        json_t *filters[] = {f1, f2, f3, f4};
        size_t expect[] = {0, 1, 1, 0};
        for (size_t i = 0; i < 4; i++) {
                _cleanup_json_ json_t *l = NULL;
                assert_int_equal(img_list(store, false, filters[i], &l, NULL), 0);
                assert_int_equal(json_array_size(l), expect[i]);
        }

        _cleanup_json_ json_t *hist = NULL;
        assert_int_equal(img_history(store, "busybox", &hist, NULL), 0);
        assert_int_equal(json_array_size(hist), 3);
        assert_string_equal(json_string_value(json_object_get(json_array_get(hist, 0), "Id")),
                            want);
        assert_string_equal(
            json_string_value(json_object_get(json_array_get(hist, 0), "CreatedBy")), "RUN rm");
        assert_int_equal(json_integer_value(json_object_get(json_array_get(hist, 0), "Size")), 4);
        assert_int_equal(json_integer_value(json_object_get(json_array_get(hist, 1), "Size")), 0);
        assert_string_equal(json_string_value(json_object_get(json_array_get(hist, 2), "Id")),
                            "<missing>");
        long n = 0;
        assert_int_equal(img_count(store, &n, NULL), 0);
        assert_int_equal(n, 1);

        /* Loading it again is a no-op that reports the same line. */
        _cleanup_json_ json_t *again = NULL;
        assert_int_equal(load_file(store, "a.tar", &again, NULL), 0);
        assert_int_equal(img_count(store, &n, NULL), 0);
        assert_int_equal(n, 1);
        assert_int_equal(count_dir("root/layers"), 2);
}

static const char *always_used(const char *id, void *arg, bool *running)
{
        *running = false;
        return "8923408bb4f6aaaa";
}

static void test_tag_remove(void **state)
{
        char cfg_hex[65];
        make_archive("a.tar", "busybox:latest", cfg_hex);
        _cleanup_json_ json_t *loaded = NULL;
        assert_int_equal(load_file(store, "a.tar", &loaded, NULL), 0);
        assert_int_equal(img_tag(store, "busybox", "myimg", "v1", NULL), 0);
        _cleanup_free_ char *id = NULL;
        assert_int_equal(img_resolve(store, "myimg:v1", &id, NULL), 0);

        /* A name of an image with two names: untag only. */
        _cleanup_json_ json_t *d1 = NULL;
        assert_int_equal(img_remove(store, "myimg:v1", false, NULL, NULL, &d1, NULL), 0);
        assert_int_equal(json_array_size(d1), 1);
        assert_string_equal(json_string_value(json_object_get(json_array_get(d1, 0), "Untagged")),
                            "myimg:v1");
        long n = 0;
        assert_int_equal(img_count(store, &n, NULL), 0);
        assert_int_equal(n, 1);

        /* By id with names in two repositories: conflict unless forced. */
        assert_int_equal(img_tag(store, id, "other/repo", NULL, NULL), 0);
        _cleanup_gerr_ struct gerr *err = NULL;
        json_t *d2 = NULL;
        assert_int_equal(img_remove(store, id, false, NULL, NULL, &d2, &err), -EBUSY);
        /* The last name of an image a container uses is kept unless forced. */
        assert_int_equal(img_remove(store, "other/repo", false, NULL, NULL, &d2, NULL), 0);
        json_decref(d2);
        _cleanup_gerr_ struct gerr *err2 = NULL;
        assert_int_equal(img_remove(store, "busybox", false, always_used, NULL, &d2, &err2),
                         -EBUSY);
        assert_non_null(strstr(err2->msg, "conflict: unable to remove repository reference "
                                          "\"busybox\" (must force) - container 8923408bb4f6 "
                                          "is using its referenced image "));

        /* The last name goes: the image, its layers and its blobs go too. */
        _cleanup_json_ json_t *d3 = NULL;
        assert_int_equal(img_remove(store, "busybox", false, NULL, NULL, &d3, NULL), 0);
        assert_string_equal(json_string_value(json_object_get(json_array_get(d3, 0), "Untagged")),
                            "busybox:latest");
        assert_string_equal(json_string_value(json_object_get(json_array_get(d3, 1), "Deleted")),
                            id);
        assert_int_equal(json_array_size(d3), 4); /* + two layers */
        assert_int_equal(img_count(store, &n, NULL), 0);
        assert_int_equal(n, 0);
        assert_int_equal(count_dir("root/layers"), 0);
        assert_int_equal(count_dir("root/blobs/sha256"), 0);
        _cleanup_free_ char *gone = NULL;
        assert_int_equal(img_resolve(store, id, &gone, NULL), -ENOENT);

        /* An untagged load, removed by short id. */
        _cleanup_json_ json_t *l2 = NULL, *d4 = NULL;
        make_archive("u.tar", NULL, cfg_hex);
        assert_int_equal(load_file(store, "u.tar", &l2, NULL), 0);
        char line[100];
        snprintf(line, sizeof(line), "Loaded image ID: sha256:%s", cfg_hex);
        assert_string_equal(json_string_value(json_array_get(l2, 0)), line);
        char short_id[16];
        snprintf(short_id, sizeof(short_id), "%.6s", cfg_hex);
        assert_int_equal(img_remove(store, short_id, false, NULL, NULL, &d4, NULL), 0);
        assert_int_equal(count_dir("root/layers"), 0);
}

static void test_shared_layers(void **state)
{
        /* Two images sharing their bottom layer: removing one keeps the shared dir. */
        const struct tent *ls[] = {layer1, layer2};
        size_t ns[] = {ARRAY_SIZE(layer1), ARRAY_SIZE(layer2)};
        _cleanup_json_ json_t *l1 = NULL, *l2 = NULL, *d = NULL;
        make_archive_ex("two.tar", ls, ns, 2, "two:latest", false, NULL);
        make_archive_ex("one.tar", ls, ns, 1, "one:latest", false, NULL);
        assert_int_equal(load_file(store, "two.tar", &l1, NULL), 0);
        assert_int_equal(load_file(store, "one.tar", &l2, NULL), 0);
        assert_int_equal(count_dir("root/layers"), 2);
        assert_int_equal(img_remove(store, "two", false, NULL, NULL, &d, NULL), 0);
        assert_int_equal(count_dir("root/layers"), 1);
        _cleanup_strv_ char **dirs = NULL;
        assert_int_equal(img_layer_dirs(store, "one", &dirs, NULL), 0);
        assert_true(fs_exists(dirs[0]));
}

static void test_import(void **state)
{
        const struct tent rootfs[] = {{AE_IFDIR, "bin", NULL}, {AE_IFREG, "bin/true", "x"}};
        write_tar(tpath("rootfs.tar.gz"), rootfs, 2, true);
        _cleanup_close_ int fd = open(tpath("rootfs.tar.gz"), O_RDONLY);
        _cleanup_free_ char *id = NULL, *id2 = NULL;
        _cleanup_gerr_ struct gerr *err = NULL;
        assert_int_equal(img_import(store, fd, "imp:1", NULL, NULL, &id, &err), 0);
        assert_int_equal(strncmp(id, "sha256:", 7), 0);
        assert_int_equal(img_resolve(store, "imp:1", &id2, NULL), 0);
        assert_string_equal(id, id2);
        _cleanup_strv_ char **dirs = NULL;
        assert_int_equal(img_layer_dirs(store, id, &dirs, NULL), 0);
        assert_null(dirs[1]);
        char p[600];
        snprintf(p, sizeof(p), "%s/bin/true", dirs[0]);
        assert_true(fs_exists(p));
        _cleanup_json_ json_t *cfg = NULL;
        assert_int_equal(img_config(store, id, &cfg, NULL), 0);
        assert_string_equal(json_string_value(json_object_get(
                                json_array_get(json_object_get(cfg, "history"), 0), "comment")),
                            "Imported from -");
        /* The diff id is the digest of the uncompressed tar. */
        const char *diff = json_string_value(
            json_array_get(json_object_get(json_object_get(cfg, "rootfs"), "diff_ids"), 0));
        char blob[600];
        snprintf(blob, sizeof(blob), "root/blobs/sha256/%s", diff + 7);
        char hex[65];
        sha256_file(tpath(blob), hex);
        assert_string_equal(hex, diff + 7);
}

static void test_save_roundtrip(void **state)
{
        char cfg_hex[65];
        make_archive("a.tar", "busybox:latest", cfg_hex);
        _cleanup_json_ json_t *loaded = NULL, *loaded2 = NULL;
        assert_int_equal(load_file(store, "a.tar", &loaded, NULL), 0);
        {
                _cleanup_close_ int fd =
                    open(tpath("saved.tar"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
                const char *refs[] = {"busybox"};
                _cleanup_gerr_ struct gerr *err = NULL;
                assert_int_equal(img_save(store, refs, 1, IMG_SAVE_DOCKER, fd, &err), 0);
        }
        sqlite3 *db2 = NULL;
        struct img_store *s2 = NULL;
        assert_int_equal(open_store("root2", &db2, &s2), 0);
        _cleanup_gerr_ struct gerr *err = NULL;
        assert_int_equal(load_file(s2, "saved.tar", &loaded2, &err), 0);
        assert_string_equal(json_string_value(json_array_get(loaded2, 0)),
                            "Loaded image: busybox:latest");
        _cleanup_free_ char *id = NULL;
        assert_int_equal(img_resolve(s2, "busybox", &id, NULL), 0);
        assert_string_equal(id + 7, cfg_hex);
        _cleanup_strv_ char **dirs = NULL;
        assert_int_equal(img_layer_dirs(s2, id, &dirs, NULL), 0);
        char p[600];
        snprintf(p, sizeof(p), "%s/etc/new", dirs[0]);
        assert_true(fs_exists(p));
        /* Only the config and the layers stay in the new store (not the OCI manifest). */
        assert_int_equal(count_dir("root2/blobs/sha256"), 3);
        img_store_close(s2);
        db_close(db2);
}

static void assert_refused(const struct tent *t, size_t n)
{
        const struct tent *ls[] = {t};
        size_t ns[] = {n};
        make_archive_ex("evil.tar", ls, ns, 1, "evil:latest", false, NULL);
        json_t *loaded = NULL;
        _cleanup_gerr_ struct gerr *err = NULL;
        int r = load_file(store, "evil.tar", &loaded, &err);
        if (r != -EINVAL)
                fprintf(stderr, "not refused: %s (%d)\n", t[n - 1].path, r);
        assert_int_equal(r, -EINVAL);
        assert_null(loaded);
        assert_int_equal(count_dir("root/layers"), 0);
        assert_int_equal(count_dir("root/blobs/sha256"), 0);
        long cnt = 1;
        assert_int_equal(img_count(store, &cnt, NULL), 0);
        assert_int_equal(cnt, 0);
}

static void test_escapes_refused(void **state)
{
        mkdir(tpath("outside"), 0755);
        const struct tent dotdot[] = {{AE_IFREG, "../evil", "x"}};
        assert_refused(dotdot, 1);
        assert_false(fs_exists(tpath("root/evil")));
        assert_false(fs_exists(tpath("evil")));
        char target[300];
        snprintf(target, sizeof(target), "%s", tpath("outside"));
        const struct tent through[] = {{AE_IFLNK, "link", target}, {AE_IFREG, "link/pwned", "x"}};
        assert_refused(through, 2);
        assert_false(fs_exists(tpath("outside/pwned")));
        const struct tent hard[] = {{0, "hard", "../../../../etc/passwd"}};
        assert_refused(hard, 1);
        /* An absolute entry path is made relative to the layer, not refused. */
        const struct tent abs[] = {{AE_IFREG, "/abs", "x"}};
        const struct tent *ls[] = {abs};
        size_t ns[] = {1};
        make_archive_ex("abs.tar", ls, ns, 1, "abs:latest", false, NULL);
        _cleanup_json_ json_t *loaded = NULL;
        assert_int_equal(load_file(store, "abs.tar", &loaded, NULL), 0);
        _cleanup_strv_ char **dirs = NULL;
        assert_int_equal(img_layer_dirs(store, "abs", &dirs, NULL), 0);
        char p[600];
        snprintf(p, sizeof(p), "%s/abs", dirs[0]);
        assert_true(fs_exists(p));
        assert_false(fs_exists("/abs"));
}

static void test_bad_digest(void **state)
{
        const struct tent *ls[] = {layer1, layer2};
        size_t ns[] = {ARRAY_SIZE(layer1), ARRAY_SIZE(layer2)};
        make_archive_ex("bad.tar", ls, ns, 2, "bad:latest", true, NULL);
        json_t *loaded = NULL;
        _cleanup_gerr_ struct gerr *err = NULL;
        assert_int_equal(load_file(store, "bad.tar", &loaded, &err), -EINVAL);
        assert_non_null(strstr(err->msg, "diff id"));
        assert_int_equal(count_dir("root/layers"), 0);
        assert_int_equal(count_dir("root/blobs/sha256"), 0);
}

#define DIGEST_HEX "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void test_normalize(void **state)
{
        const char *in[] = {"busybox",
                            "busybox:1.36",
                            "user/x",
                            "localhost:5000/x",
                            "quay.io/a/b:c",
                            ("busybox@sha256:" DIGEST_HEX)};
        const char *out[] = {"docker.io/library/busybox:latest",
                             "docker.io/library/busybox:1.36",
                             "docker.io/user/x:latest",
                             "localhost:5000/x:latest",
                             "quay.io/a/b:c",
                             ("docker.io/library/busybox@sha256:" DIGEST_HEX)};
        for (size_t i = 0; i < ARRAY_SIZE(in); i++) {
                _cleanup_free_ char *n = NULL;
                assert_int_equal(img_normalize(in[i], &n, NULL), 0);
                assert_string_equal(n, out[i]);
        }
        const char *bad[] = {"", "Busybox", "a//b", "a:", "-a", "a:b:c"};
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                _cleanup_free_ char *n = NULL;
                _cleanup_gerr_ struct gerr *err = NULL;
                assert_int_equal(img_normalize(bad[i], &n, &err), -EINVAL);
        }
        _cleanup_free_ char *f1 = img_familiar("docker.io/library/busybox:latest"),
                            *f2 = img_familiar("docker.io/user/x:1"),
                            *f3 = img_familiar("quay.io/a/b:c");
        assert_string_equal(f1, "busybox:latest");
        assert_string_equal(f2, "user/x:1");
        assert_string_equal(f3, "quay.io/a/b:c");
}

int main(void)
{
        if (geteuid() != 0) {
                fprintf(stderr, "test_image: needs root (device nodes, trusted xattrs)\n");
                return 77;
        }
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_normalize),
            cmocka_unit_test_setup_teardown(test_load_layers, setup, teardown),
            cmocka_unit_test_setup_teardown(test_tag_remove, setup, teardown),
            cmocka_unit_test_setup_teardown(test_shared_layers, setup, teardown),
            cmocka_unit_test_setup_teardown(test_import, setup, teardown),
            cmocka_unit_test_setup_teardown(test_save_roundtrip, setup, teardown),
            cmocka_unit_test_setup_teardown(test_escapes_refused, setup, teardown),
            cmocka_unit_test_setup_teardown(test_bad_digest, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
