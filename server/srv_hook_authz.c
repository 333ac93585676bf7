/* srv_hook_authz.c: being written (issue 3). */
#include "srv_admission.h"

int srv_hook_authorize(const srv_review *r, const srv_hook_env *env,
		       srv_answer *out)
{
	(void)r;
	(void)env;
	(void)out;
	return GV_EINVAL;
}
