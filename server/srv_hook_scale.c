/* srv_hook_scale.c: being written (issue 3). */
