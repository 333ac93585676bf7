/* pol_authz.c: being written (issue 3). */
