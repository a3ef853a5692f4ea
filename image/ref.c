/* Image references: Docker's normalization, familiar names and ref-to-id resolution. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/db.h"
#include "image/image_internal.h"

/* One path component: [a-z0-9]+ joined by ".", "_", "__" or runs of "-". */
static bool valid_component(const char *p, size_t n)
{
        if (n == 0)
                return false;
        size_t i = 0;
        while (i < n) {
                size_t start = i;
                while (i < n && ((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= '0' && p[i] <= '9')))
                        i++;
                if (i == start)
                        return false;
                if (i == n)
                        return true;
                size_t sep = i;
                while (i < n && (p[i] == '.' || p[i] == '_' || p[i] == '-'))
                        i++;
                size_t sl = i - sep;
                bool dashes = strspn(p + sep, "-") >= sl;
                if (!(dashes || (sl == 1) || (sl == 2 && p[sep] == '_' && p[sep + 1] == '_')))
                        return false;
                if (i == n)
                        return false;
        }
        return true;
}

static bool valid_tag(const char *t)
{
        size_t n = strlen(t);
        if (n == 0 || n > 128 || t[0] == '.' || t[0] == '-')
                return false;
        return strspn(t, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == n;
}

static bool valid_domain(const char *d, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (!((d[i] >= 'a' && d[i] <= 'z') || (d[i] >= 'A' && d[i] <= 'Z') ||
                      (d[i] >= '0' && d[i] <= '9') || strchr(".-:[]", d[i])))
                        return false;
        return n > 0;
}

int img_normalize(const char *ref, char **out, struct gerr **err)
{
        if (ref == NULL || *ref == '\0')
                return img_errf(err, EINVAL, "invalid reference format");
        if (img_is_hex(ref, 64, 64))
                return img_errf(err, EINVAL,
                                "invalid repository name (%s), cannot specify 64-byte hexadecimal "
                                "strings",
                                ref);
        _cleanup_free_ char *name = strdup(ref);
        if (name == NULL)
                return gerr_set(err, ENOMEM, "normalize");
        char *digest = strchr(name, '@');
        if (digest != NULL) {
                *digest++ = '\0';
                if (strncmp(digest, "sha256:", 7) != 0 || !img_is_hex(digest + 7, 64, 64))
                        return img_errf(err, EINVAL, "invalid reference format");
        }
        char *tag = NULL;
        char *colon = strrchr(name, ':');
        if (colon != NULL && strchr(colon, '/') == NULL) {
                *colon = '\0';
                tag = colon + 1;
                if (!valid_tag(tag))
                        return img_errf(err, EINVAL, "invalid reference format");
        }
        const char *domain = "docker.io";
        size_t dlen = strlen(domain);
        const char *path = name;
        char *slash = strchr(name, '/');
        if (slash != NULL) {
                size_t n = (size_t)(slash - name);
                if (memchr(name, '.', n) || memchr(name, ':', n) ||
                    (n == 9 && strncmp(name, "localhost", 9) == 0) ||
                    strcspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") < n) {
                        if (!valid_domain(name, n))
                                return img_errf(err, EINVAL, "invalid reference format");
                        domain = name;
                        dlen = n;
                        path = slash + 1;
                }
        }
        if (strcspn(path, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") < strlen(path))
                return img_errf(err, EINVAL,
                                "invalid reference format: repository name (%s) must be lowercase",
                                path);
        for (const char *p = path;;) {
                const char *end = strchrnul(p, '/');
                if (!valid_component(p, (size_t)(end - p)))
                        return img_errf(err, EINVAL, "invalid reference format");
                if (*end == '\0')
                        break;
                p = end + 1;
        }
        bool library = dlen == 9 && strncmp(domain, "docker.io", 9) == 0 && !strchr(path, '/');
        int n;
        if (tag == NULL && digest == NULL)
                tag = "latest";
        n = asprintf(out, "%.*s/%s%s%s%s%s%s", (int)dlen, domain, library ? "library/" : "", path,
                     tag ? ":" : "", tag ? tag : "", digest ? "@" : "", digest ? digest : "");
        if (n < 0)
                return gerr_set(err, ENOMEM, "normalize");
        if (strlen(*out) > 255 + 140) {
                free(*out);
                *out = NULL;
                return img_errf(err, EINVAL,
                                "invalid reference format: repository name must not "
                                "be more than 255 characters");
        }
        return 0;
}

char *img_familiar(const char *normalized)
{
        const char *p = normalized;
        if (strncmp(p, "docker.io/", 10) == 0) {
                p += 10;
                if (strncmp(p, "library/", 8) == 0 && !strchr(p + 8, '/'))
                        p += 8;
        }
        return strdup(p);
}

static int lookup_id(struct img_store *s, const char *sql, const char *arg, char **id_out,
                     int *count)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
                return -EIO;
        sqlite3_bind_text(st, 1, arg, -1, SQLITE_TRANSIENT);
        *count = 0;
        while (sqlite3_step(st) == SQLITE_ROW) {
                if (*count == 0)
                        *id_out = strdup((const char *)sqlite3_column_text(st, 0));
                (*count)++;
                if (*count > 1)
                        break;
        }
        return 0;
}

int img_resolve_ex(struct img_store *s, const char *ref, char **id_out, bool *by_name,
                   struct gerr **err)
{
        _cleanup_free_ char *id = NULL;
        int count = 0;
        *by_name = false;
        const char *hex = img_hex(ref);
        bool prefixed = hex != ref;
        if (img_is_hex(hex, 64, 64)) {
                _cleanup_free_ char *full = NULL;
                if (asprintf(&full, "sha256:%s", hex) < 0)
                        return gerr_set(err, ENOMEM, "resolve");
                lookup_id(s, "SELECT id FROM images WHERE id = ?", full, &id, &count);
        } else {
                _cleanup_free_ char *norm = NULL;
                if (!prefixed && img_normalize(ref, &norm, NULL) == 0) {
                        lookup_id(s, "SELECT image_id FROM tags WHERE name = ?", norm, &id, &count);
                        if (count == 0 && strchr(norm, '@') != NULL)
                                lookup_id(s, "SELECT image_id FROM repo_digests WHERE name = ?",
                                          norm, &id, &count);
                        *by_name = count == 1;
                }
                if (count == 0 && img_is_hex(hex, 1, 63)) {
                        free(id);
                        id = NULL;
                        _cleanup_free_ char *pat = NULL;
                        if (asprintf(&pat, "sha256:%s*", hex) < 0)
                                return gerr_set(err, ENOMEM, "resolve");
                        lookup_id(s, "SELECT id FROM images WHERE id GLOB ?", pat, &id, &count);
                }
        }
        if (count != 1 || id == NULL)
                return img_errf(err, ENOENT, "No such image: %s", ref);
        *id_out = TAKE_PTR(id);
        return 0;
}

int img_resolve(struct img_store *s, const char *ref, char **id_out, struct gerr **err)
{
        bool by_name;
        return img_resolve_ex(s, ref, id_out, &by_name, err);
}

int img_names_query(struct img_store *s, const char *sql, const char *id, char ***out,
                    struct gerr **err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = db_prepare(s->db, sql, &st, err);
        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
        size_t n = 0;
        char **v = calloc(1, sizeof(char *));
        while (v != NULL && sqlite3_step(st) == SQLITE_ROW) {
                char **nv = realloc(v, (n + 2) * sizeof(char *));
                if (nv == NULL) {
                        strv_free(v);
                        v = NULL;
                        break;
                }
                v = nv;
                v[n++] = strdup((const char *)sqlite3_column_text(st, 0));
                v[n] = NULL;
        }
        if (v == NULL)
                return gerr_set(err, ENOMEM, "names of an image");
        *out = v;
        return 0;
}

int img_tags_of(struct img_store *s, const char *id, char ***out, struct gerr **err)
{
        return img_names_query(s, "SELECT name FROM tags WHERE image_id = ? ORDER BY name", id,
                               out, err);
}
