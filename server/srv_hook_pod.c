/* srv_hook_pod.c: being written (issue 3). */
#include "srv_admission.h"

int srv_hook_mutate_pod(const srv_review *r, const srv_hook_env *env,
			srv_answer *out)
{
	(void)r;
	(void)env;
	(void)out;
	return GV_EINVAL;
}
