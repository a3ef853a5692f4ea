/* gantry cp: declarations shared by the verb, docker's path rules and the local copies. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

/* ---- cp_path.c: Go's path functions and docker's pkg/archive copy rules ---- */

/* Go's filepath.Clean, Base, Dir and Join (new strings; abort on ENOMEM). */
char *cp_clean(const char *p);
char *cp_base(const char *p);
char *cp_dir(const char *p);
char *cp_join(const char *a, const char *b);
bool cp_trailing_sep(const char *p);
/* The last element is "." ("/d/." or "/d/./"). */
bool cp_current_dir(const char *p);
/* docker's SplitPathDirEntry: the parent and the entry, a trailing "." kept as the entry. */
void cp_split(const char *p, char **dir, char **base);
/* docker's PreserveTrailingDotOrSeparator: clean plus the "/." or "/" that orig ended in. */
char *cp_preserve_trailing(const char *clean, const char *orig);
/* filepath.Abs (against the working directory) with orig's trailing "/." or "/" kept. */
char *cp_abs(const char *orig);
/* docker's GetRebaseName: *resolved gets orig's trailing "/." or "/", the return is the name
 * entries must take (NULL when the last element did not change). */
char *cp_rebase_name(const char *orig, char **resolved);

/* docker's CopyInfo. */
struct cp_info {
        char *path;
        bool exists, is_dir;
        char *rebase; /* RebaseName, or NULL */
};

void cp_info_done(struct cp_info *i);

/* What PrepareArchiveCopy decides for an archive of src (entries starting with from, the
 * entry part of src->path) extracted toward dst: the directory to extract in and the name
 * entries take instead of from (NULL: keep them). */
struct cp_plan {
        char *dir, *from, *to;
};

/* 0, or -1 with *msg set to docker's error ("cannot copy directory", "no such directory"). */
int cp_prepare(const struct cp_info *src, const struct cp_info *dst, struct cp_plan *plan,
               const char **msg);
void cp_plan_done(struct cp_plan *p);

/* ---- cp_tar.c: the local end of a copy is GNU tar, fed or drained through a pipe ---- */

/* Starts `tar -x` in dir, reading the archive from *fd (a pipe's write end for the caller);
 * entries named from[/...] become to[/...] (to NULL: kept). Returns the pid or -1 (printed). */
pid_t cp_tar_extract(const char *dir, const char *from, const char *to, int *fd);
/* Starts `tar -c` of entry in dir writing to *fd (the read end for the caller). */
pid_t cp_tar_create(const char *dir, const char *entry, const char *to, int *fd);
/* Waits for tar: 0 when it succeeded, -1 (it printed why, or it was killed). */
int cp_tar_wait(pid_t pid);

/* ---- cp_local.c: docker's copyFromContainer and copyToContainer ---- */

struct cp_opts {
        bool follow, copy_uid_gid;
};

/* CONTAINER:SRC to DST (a local path or "-" for a tar on stdout). The exit status. */
int cp_from_container(const char *ctr, const char *src, const char *dst, const struct cp_opts *o);
/* SRC (a local path or "-" for a tar on stdin) to CONTAINER:DST. The exit status. */
int cp_to_container(const char *src, const char *ctr, const char *dst, const struct cp_opts *o);
