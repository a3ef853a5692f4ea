/* The containers table, the in-memory list mirroring it, ids, names and lookups. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "common/cleanup.h"
#include "common/db.h"
#include "engine/engine_internal.h"

int eng_store_init(struct eng *e, struct gerr **err)
{
        return db_exec(e->db,
                       "CREATE TABLE IF NOT EXISTS containers (id TEXT PRIMARY KEY,"
                       " name TEXT UNIQUE, image_id TEXT, image_ref TEXT, config TEXT,"
                       " created TEXT, state TEXT);",
                       err);
}

static char *xstrdup0(const char *s)
{
        return s ? strdup(s) : NULL;
}

static void copy_str(char *dst, size_t n, const char *src)
{
        snprintf(dst, n, "%s", src ? src : "");
}

static void state_from_json(struct eng_ctr *c, json_t *st)
{
        copy_str(c->status, sizeof(c->status), json_string_value(json_object_get(st, "Status")));
        if (c->status[0] == '\0')
                copy_str(c->status, sizeof(c->status), "created");
        c->running = json_is_true(json_object_get(st, "Running"));
        c->paused = json_is_true(json_object_get(st, "Paused"));
        c->oom_killed = json_is_true(json_object_get(st, "OOMKilled"));
        c->dead = json_is_true(json_object_get(st, "Dead"));
        c->pid = (pid_t)json_integer_value(json_object_get(st, "Pid"));
        c->shim_pid = (pid_t)json_integer_value(json_object_get(st, "ShimPid"));
        c->exit_code = (int)json_integer_value(json_object_get(st, "ExitCode"));
        c->restart_count = (int)json_integer_value(json_object_get(st, "RestartCount"));
        c->manual_stop = json_is_true(json_object_get(st, "ManuallyStopped"));
        copy_str(c->started_at, sizeof(c->started_at),
                 json_string_value(json_object_get(st, "StartedAt")));
        copy_str(c->finished_at, sizeof(c->finished_at),
                 json_string_value(json_object_get(st, "FinishedAt")));
        const char *er = json_string_value(json_object_get(st, "Error"));
        c->error = er && *er ? strdup(er) : NULL;
}

json_t *eng_ctr_state_json(const struct eng_ctr *c)
{
        return json_pack("{s:s, s:b, s:b, s:b, s:b, s:b, s:i, s:i, s:i, s:s, s:s, s:s, s:i, s:b}",
                         "Status", c->status, "Running", c->running, "Paused", c->paused,
                         "Restarting", c->restarting, "OOMKilled", c->oom_killed, "Dead",
                         c->dead, "Pid", (int)c->pid, "ShimPid", (int)c->shim_pid, "ExitCode",
                         c->exit_code, "Error", c->error ? c->error : "", "StartedAt",
                         c->started_at[0] ? c->started_at : "0001-01-01T00:00:00Z",
                         "FinishedAt",
                         c->finished_at[0] ? c->finished_at : "0001-01-01T00:00:00Z",
                         "RestartCount", c->restart_count, "ManuallyStopped", c->manual_stop);
}

int eng_store_load(struct eng *e, struct gerr **err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = db_prepare(e->db,
                           "SELECT id, name, image_id, image_ref, config, created, state FROM"
                           " containers ORDER BY created",
                           &st, err);
        if (r < 0)
                return r;
        int rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                struct eng_ctr *c = calloc(1, sizeof(*c));
                if (c == NULL)
                        return gerr_set(err, ENOMEM, "load containers");
                c->refs = 1;
                copy_str(c->id, sizeof(c->id), (const char *)sqlite3_column_text(st, 0));
                c->name = xstrdup0((const char *)sqlite3_column_text(st, 1));
                c->image_id = xstrdup0((const char *)sqlite3_column_text(st, 2));
                c->image_ref = xstrdup0((const char *)sqlite3_column_text(st, 3));
                const char *cfg = (const char *)sqlite3_column_text(st, 4);
                c->config = cfg ? json_loads(cfg, 0, NULL) : NULL;
                if (c->config == NULL)
                        c->config = json_object();
                copy_str(c->created, sizeof(c->created),
                         (const char *)sqlite3_column_text(st, 5));
                const char *sj = (const char *)sqlite3_column_text(st, 6);
                _cleanup_json_ json_t *state = sj ? json_loads(sj, 0, NULL) : NULL;
                state_from_json(c, state);
                if (c->name == NULL)
                        c->name = strdup(c->id);
                /* Newest first, as create inserts and as `docker ps` lists. */
                c->next = e->ctrs;
                e->ctrs = c;
        }
        if (rc != SQLITE_DONE)
                return gerr_set(err, EIO, "database: %s", sqlite3_errmsg(e->db));
        return 0;
}

int eng_store_insert(struct eng *e, const struct eng_ctr *c, struct gerr **err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = db_prepare(e->db,
                           "INSERT INTO containers (id, name, image_id, image_ref, config,"
                           " created, state) VALUES (?,?,?,?,?,?,?)",
                           &st, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *cfg = json_dumps(c->config, JSON_COMPACT);
        _cleanup_json_ json_t *state = eng_ctr_state_json(c);
        _cleanup_free_ char *sj = json_dumps(state, JSON_COMPACT);
        sqlite3_bind_text(st, 1, c->id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, c->name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, c->image_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, c->image_ref, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, cfg, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 6, c->created, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 7, sj, -1, SQLITE_STATIC);
        return db_step_done(e->db, st, err);
}

int eng_store_save_state(struct eng *e, const struct eng_ctr *c, struct gerr **err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = db_prepare(e->db, "UPDATE containers SET state = ? WHERE id = ?", &st, err);
        if (r < 0)
                return r;
        _cleanup_json_ json_t *state = eng_ctr_state_json(c);
        _cleanup_free_ char *sj = json_dumps(state, JSON_COMPACT);
        sqlite3_bind_text(st, 1, sj, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, c->id, -1, SQLITE_STATIC);
        return db_step_done(e->db, st, err);
}

int eng_store_save_config(struct eng *e, const struct eng_ctr *c, struct gerr **err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = db_prepare(e->db, "UPDATE containers SET config = ? WHERE id = ?", &st, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *cj = json_dumps(c->config, JSON_COMPACT);
        sqlite3_bind_text(st, 1, cj, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, c->id, -1, SQLITE_STATIC);
        return db_step_done(e->db, st, err);
}

int eng_store_rename(struct eng *e, const char *id, const char *name, struct gerr **err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = db_prepare(e->db, "UPDATE containers SET name = ? WHERE id = ?", &st, err);
        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
        return db_step_done(e->db, st, err);
}

int eng_store_delete(struct eng *e, const char *id, struct gerr **err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = db_prepare(e->db, "DELETE FROM containers WHERE id = ?", &st, err);
        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        return db_step_done(e->db, st, err);
}

void eng_gen_id(char out[65])
{
        unsigned char b[32];
        size_t got = 0;
        while (got < sizeof(b)) {
                ssize_t n = getrandom(b + got, sizeof(b) - got, 0);
                if (n > 0)
                        got += (size_t)n;
        }
        for (size_t i = 0; i < sizeof(b); i++)
                sprintf(out + 2 * i, "%02x", b[i]);
        out[64] = '\0';
}

/* A subset of dockerd's pkg/namesgenerator lists. */
static const char *const adjectives[] = {
        "admiring", "adoring", "affectionate", "agitated", "amazing", "angry", "awesome",
        "beautiful", "blissful", "bold", "boring", "brave", "busy", "charming", "clever",
        "compassionate", "competent", "condescending", "confident", "cool", "cranky", "crazy",
        "dazzling", "determined", "distracted", "dreamy", "eager", "ecstatic", "elastic",
        "elated", "elegant", "eloquent", "epic", "exciting", "fervent", "festive", "flamboyant",
        "focused", "friendly", "frosty", "funny", "gallant", "gifted", "goofy", "gracious",
        "great", "happy", "hardcore", "heuristic", "hopeful", "hungry", "infallible",
        "inspiring", "intelligent", "interesting", "jolly", "jovial", "keen", "kind", "laughing",
        "loving", "lucid", "magical", "modest", "musing", "mystifying", "naughty", "nervous",
        "nice", "nifty", "nostalgic", "objective", "optimistic", "peaceful", "pedantic",
        "pensive", "practical", "priceless", "quirky", "quizzical", "recursing", "relaxed",
        "reverent", "romantic", "sad", "serene", "sharp", "silly", "sleepy", "stoic", "strange",
        "stupefied", "suspicious", "sweet", "tender", "thirsty", "trusting", "unruffled",
        "upbeat", "vibrant", "vigilant", "vigorous", "wizardly", "wonderful", "xenodochial",
        "youthful", "zealous", "zen",
};
static const char *const surnames[] = {
        "agnesi", "albattani", "allen", "almeida", "archimedes", "ardinghelli", "aryabhata",
        "austin", "babbage", "banach", "bardeen", "bartik", "bassi", "bell", "benz", "bhabha",
        "bhaskara", "blackwell", "bohr", "booth", "borg", "bose", "boyd", "brahmagupta",
        "brattain", "brown", "carson", "cerf", "chandrasekhar", "chatelet", "chaum", "clarke",
        "colden", "cori", "cray", "curie", "darwin", "davinci", "dijkstra", "dirac", "driscoll",
        "dubinsky", "easley", "edison", "einstein", "elion", "engelbart", "euclid", "euler",
        "faraday", "feistel", "fermat", "fermi", "feynman", "franklin", "galileo", "gates",
        "goldberg", "goldstine", "goodall", "hamilton", "hawking", "heisenberg", "hermann",
        "hertz", "hodgkin", "hofstadter", "hopper", "hugle", "hypatia", "jackson", "jang",
        "jennings", "jepsen", "johnson", "joliot", "jones", "kalam", "kapitsa", "keldysh",
        "keller", "kepler", "khorana", "kilby", "kirch", "knuth", "kowalevski", "lalande",
        "lamarr", "lamport", "leakey", "leavitt", "lederberg", "lehmann", "lewin", "lichterman",
        "liskov", "lovelace", "lumiere", "mahavira", "margulis", "matsumoto", "maxwell",
        "mayer", "mccarthy", "mcclintock", "meitner", "mendel", "merkle", "minsky", "mirzakhani",
        "montalcini", "moore", "morse", "napier", "nash", "neumann", "newton", "nightingale",
        "nobel", "noether", "noyce", "pascal", "pasteur", "perlman", "pike", "poincare",
        "ptolemy", "raman", "ramanujan", "ritchie", "rosalind", "saha", "sammet", "shamir",
        "shannon", "shaw", "shockley", "sinoussi", "snyder", "spence", "stonebraker",
        "sutherland", "swanson", "swartz", "tesla", "thompson", "torvalds", "turing", "varahamihira",
        "villani", "visvesvaraya", "volhard", "wescoff", "wilbur", "wiles", "williams", "wilson",
        "wing", "wozniak", "wright", "wu", "yalow", "yonath", "zhukovsky",
};

static bool name_taken(struct eng *e, const char *name)
{
        for (struct eng_ctr *c = e->ctrs; c; c = c->next)
                if (strcmp(c->name, name) == 0)
                        return true;
        return false;
}

char *eng_gen_name(struct eng *e)
{
        char buf[96];
        for (int attempt = 0;; attempt++) {
                unsigned rnd[3];
                if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
                        rnd[0] = rnd[1] = rnd[2] = (unsigned)attempt * 7919u;
                const char *a = adjectives[rnd[0] % ARRAY_SIZE(adjectives)];
                const char *s = surnames[rnd[1] % ARRAY_SIZE(surnames)];
                /* dockerd never names anyone boring_wozniak. */
                if (strcmp(a, "boring") == 0 && strcmp(s, "wozniak") == 0)
                        continue;
                if (attempt < 10)
                        snprintf(buf, sizeof(buf), "%s_%s", a, s);
                else
                        snprintf(buf, sizeof(buf), "%s_%s%u", a, s, rnd[2] % 10);
                if (!name_taken(e, buf))
                        return strdup(buf);
        }
}

/* Docker's restrictions: [a-zA-Z0-9][a-zA-Z0-9_.-]+ */
bool eng_name_valid(const char *name)
{
        if (name[0] == '\0' || strlen(name) < 2)
                return false;
        for (const char *p = name; *p; p++) {
                bool alnum = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                             (*p >= '0' && *p <= '9');
                if (p == name ? !alnum : !(alnum || *p == '_' || *p == '.' || *p == '-'))
                        return false;
        }
        return true;
}

int eng_ctr_find(struct eng *e, const char *ref, struct eng_ctr **out, struct gerr **err)
{
        if (ref == NULL || ref[0] == '\0')
                return gerr_set(err, ENOENT, "No such container: %s", ref ? ref : "");
        const char *name = ref[0] == '/' ? ref + 1 : ref;
        struct eng_ctr *hit = NULL;
        for (struct eng_ctr *c = e->ctrs; c; c = c->next)
                if (strcmp(c->id, ref) == 0) {
                        hit = c;
                        break;
                }
        if (hit == NULL)
                for (struct eng_ctr *c = e->ctrs; c; c = c->next)
                        if (strcmp(c->name, name) == 0) {
                                hit = c;
                                break;
                        }
        if (hit == NULL) {
                size_t n = strlen(ref);
                for (struct eng_ctr *c = e->ctrs; c; c = c->next)
                        if (strncmp(c->id, ref, n) == 0) {
                                if (hit != NULL)
                                        return eng_err(err, EINVAL,
                                                       "multiple IDs found with provided prefix: %s",
                                                       ref);
                                hit = c;
                        }
        }
        if (hit == NULL)
                return eng_err(err, ENOENT, "No such container: %s", ref);
        hit->refs++;
        *out = hit;
        return 0;
}

void eng_ctr_free(struct eng_ctr *c)
{
        free(c->name);
        free(c->image_id);
        free(c->image_ref);
        json_decref(c->config);
        json_decref(c->health);
        free(c->error);
        free(c);
}

void eng_ctr_unref(struct eng_ctr *c)
{
        if (c != NULL && --c->refs == 0)
                eng_ctr_free(c);
}

void eng_ctr_unlink(struct eng *e, struct eng_ctr *c)
{
        for (struct eng_ctr **pp = &e->ctrs; *pp; pp = &(*pp)->next)
                if (*pp == c) {
                        *pp = c->next;
                        c->next = NULL;
                        c->removed = true;
                        eng_ctr_unref(c);
                        return;
                }
}
