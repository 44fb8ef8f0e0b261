/*
 * admins.c - the admin group, whichever way the platform keeps it: the
 * group and gshadow files (groupdb.c, Linux) or dseditgroup (dsgroup.c,
 * macOS), as the configuration's admin_backend says.
 */
#include <grp.h>

#include "agent/dsgroup.h"
#include "agent/elevate.h"
#include "agent/groupdb.h"

/* ---- group changes ---------------------------------------------------------- */

/* The admin group is changed through the group files (groupdb.c) or
 * through dseditgroup (dsgroup.c), as the configuration says. */
static bool by_dseditgroup(const struct ctx *c)
{
	return c->cfg.admin_backend == CONFIG_BACKEND_DSEDITGROUP;
}

const char *admin_strerror(const struct ctx *c, int rc)
{
	return by_dseditgroup(c) ? dsgroup_strerror(rc) : groupdb_strerror(rc);
}

int admin_add(struct ctx *c, bool *already)
{
	if (by_dseditgroup(c))
		return dsgroup_add_member(c->cfg.dseditgroup, c->cfg.admin_group, c->user, already);
	return groupdb_add_member_opt(c->cfg.group_root, c->cfg.admin_group, c->user,
	                              crash_groupdb_opt(true), already);
}

int admin_remove(struct ctx *c, const char *user, bool *was)
{
	if (by_dseditgroup(c))
		return dsgroup_remove_member(c->cfg.dseditgroup, c->cfg.admin_group, user, was);
	return groupdb_remove_member_opt(c->cfg.group_root, c->cfg.admin_group, user,
	                                 crash_groupdb_opt(false), was);
}

/* Whether the user is an admin without elevate's help (listed, or primary
 * group; with dseditgroup also by a nested group). */
int already_admin(struct ctx *c, bool *admin)
{
	struct group *gr;
	int rc;
	if (by_dseditgroup(c))
		return dsgroup_is_member(c->cfg.dseditgroup, c->cfg.admin_group, c->user, admin);
	rc = groupdb_is_member(c->cfg.group_root, c->cfg.admin_group, c->user, admin);
	if (rc != 0)
		return rc;
	gr = getgrnam(c->cfg.admin_group);
	if (gr && gr->gr_gid == c->gid)
		*admin = true;
	return 0;
}
