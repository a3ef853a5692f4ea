/* OCI lifecycle hooks: run each with the container state JSON on stdin, with its timeout. */
#pragma once

#include "common/gerr.h"
#include "runtime/spec.h"

/* Run the hooks of a list in order, each with state_json on stdin. Stop at the first failure and
 * return an error naming the hook (path, exit status or signal, timeout). */
int rt_hooks_run(const struct rt_hook_list *list, const char *kind_name, const char *state_json,
                 struct gerr **err);
/* Run all hooks of the list, warning (log_warn) about each failure: poststart/poststop
 * semantics. */
void rt_hooks_run_warn(const struct rt_hook_list *list, const char *kind_name,
                       const char *state_json);
