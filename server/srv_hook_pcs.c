/* srv_hook_pcs.c: being written (issue 3). */
