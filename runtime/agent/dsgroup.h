/*
 * dsgroup.h - the agent's admin-group editor for macOS: adds a user to, or
 * removes a user from, a group of the local directory node
 * (/Local/Default) by running dseditgroup(8), the tool Apple provides for
 * it; membership is asked with `dseditgroup -o checkmember`, which counts
 * the primary group and nested groups as macOS does.
 *
 * The tool is run by absolute path, only if it is a regular file owned by
 * root and writable by nobody else, with a fixed argument list, an
 * environment holding only PATH, standard input on /dev/null, no other
 * descriptor, all user and group ids root, and a deadline. Its output
 * (standard output and error, at most DSGROUP_OUTPUT_MAX bytes) is read
 * only for checkmember's answer ("yes USER is a member of GROUP" / "no USER
 * is NOT a member of GROUP") and for error messages. Every change is
 * checked afterwards with checkmember: an edit that did not take is an
 * error, never assumed. Anything unexpected is an error (fail closed).
 *
 * The module is compiled everywhere and tested on Linux with a stand-in
 * for dseditgroup (tests/agent/fake-dseditgroup), since the real tool
 * exists only on macOS. docs/agent-groups.md has the details.
 *
 * Functions return 0 (DSGROUP_OK) or a negative enum dsgroup_status;
 * out parameters are written only on success.
 */
#ifndef ELEVATE_DSGROUP_H
#define ELEVATE_DSGROUP_H

#include <stdbool.h>
#include <stddef.h>

#define DSGROUP_DEFAULT_TOOL "/usr/sbin/dseditgroup"
#define DSGROUP_NODE         "/Local/Default"
#define DSGROUP_TIMEOUT_MS   30000u
#define DSGROUP_OUTPUT_MAX   4096u

/* X(name, value, message): one list for the enum and the messages. */
#define DSGROUP_STATUSES(X) \
	X(DSGROUP_OK,          0, "success") \
	X(DSGROUP_E_ARG,      -1, "missing argument or invalid user or group name") \
	X(DSGROUP_E_UNSAFE,   -2, "dseditgroup is not an absolute path to a regular file owned by root and writable only by root") \
	X(DSGROUP_E_RUN,      -3, "cannot run dseditgroup") \
	X(DSGROUP_E_TIMEOUT,  -4, "dseditgroup did not finish in time") \
	X(DSGROUP_E_FAILED,   -5, "dseditgroup failed") \
	X(DSGROUP_E_ANSWER,   -6, "dseditgroup gave an answer that is not understood") \
	X(DSGROUP_E_NOT_DONE, -7, "dseditgroup reported success but the membership did not change")

#define DSGROUP_ENUM_(name, value, msg) name = (value),
enum dsgroup_status { DSGROUP_STATUSES(DSGROUP_ENUM_) };
#undef DSGROUP_ENUM_

/* The message for a status; never NULL. */
const char *dsgroup_strerror(int status);

/* Whether user is a member of group (directly, by primary group or nested). */
int dsgroup_is_member(const char *tool, const char *group, const char *user, bool *member);

/* Adds user to group unless already a member (*already true, nothing run but the check). */
int dsgroup_add_member(const char *tool, const char *group, const char *user, bool *already);

/* Removes user from group if a member (*was_member says whether it was). */
int dsgroup_remove_member(const char *tool, const char *group, const char *user,
                          bool *was_member);

#endif
